"""A lead's feed (served on api.crm at `leads/{lead_uuid}/feed`): every engagement of the lead, newest first."""
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from action_engine.choices import Stage
from action_engine.models import Engagement
from action_engine.selectors import feed_for_lead
from crm.api.tenancy import NestedParentMixin
from crm.models import Lead
from salesassist.core.api import UuidField, uuid_path_parameter
from salesassist.core.errors import problem_responses
from salesassist.core.pagination import CursorPagination

# The feed is documented with the lead it belongs to.
TAG_LEADS = "leads"


class FeedActionTypeSerializer(serializers.Serializer):
    """The action type of a feed entry's company action."""

    uuid = UuidField()
    slug = serializers.CharField()
    name = serializers.CharField()


class FeedActionSystemSerializer(serializers.Serializer):
    """The action system of a feed entry's company action."""

    uuid = UuidField()
    slug = serializers.CharField()
    name = serializers.CharField()


class FeedCompanyActionSerializer(serializers.Serializer):
    """The company action a feed entry happened on."""

    uuid = UuidField()
    name = serializers.CharField()
    action_type = FeedActionTypeSerializer(source="action.type")
    system = FeedActionSystemSerializer(source="action.system")


class FeedEntrySerializer(serializers.ModelSerializer):
    """One entry of a lead's feed: a stage the lead reached on a company action."""

    action = FeedCompanyActionSerializer(source="action_company")
    # Declared, not generated: a generated read-only field drops allow_blank and the schema would omit "".
    previous_stage = serializers.ChoiceField(
        choices=Stage.choices, allow_blank=True, read_only=True, help_text="The stage before this one; empty if none."
    )
    visitor = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    message = serializers.SerializerMethodField(help_text="The JSON body of the result, or null.")
    meta = serializers.SerializerMethodField(
        help_text="How the request came: attribution (utm_source, utm_medium, utm_campaign, utm_term, utm_content, "
        "referrer, landing_url), each key only when it was sent."
    )
    first_touch = serializers.SerializerMethodField(
        help_text="The visitor's first attribution (the same keys), kept from its first engagement that had any."
    )

    class Meta:
        model = Engagement
        fields = [
            "uuid", "stage", "previous_stage", "action", "visitor", "message", "meta", "first_touch", "created_at"
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_message(self, engagement: Engagement):
        return engagement.message.body if engagement.message_id else None

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_meta(self, engagement: Engagement) -> dict:
        return engagement.meta

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_first_touch(self, engagement: Engagement) -> dict:
        return engagement.visitor.first_touch if engagement.visitor_id else {}


class LeadFeedQuerySerializer(serializers.Serializer):
    """The filters of a lead's feed."""

    action = UuidField(required=False, help_text="Only entries of this company action (its uuid).")
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, help_text="Only entries of this stage.")
    since = serializers.DateTimeField(required=False, help_text="Only entries at or after this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Only entries before this time (ISO 8601).")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


@extend_schema_view(
    list=extend_schema(
    tags=[TAG_LEADS],
    operation_id="leads_feed_list",
    summary="A lead's feed",
    description=(
        "Every engagement of the lead, newest first, cursor paged: follow `next` for older entries. "
        "`since` is inclusive, `until` exclusive."
    ),
    parameters=[uuid_path_parameter("lead_uuid", "The lead's uuid."), LeadFeedQuerySerializer],
    responses={200: FeedEntrySerializer(many=True), **problem_responses(400, 401, 403, 404)},
    )
)
class LeadFeedViewSet(NestedParentMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The history of every action a lead took (`leads/{lead_uuid}/feed`)."""

    parent_queryset = Lead.objects.all()
    parent_lookup_kwarg = "lead_uuid"
    serializer_class = FeedEntrySerializer
    pagination_class = CursorPagination
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Engagement.objects.none()
        query = LeadFeedQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return feed_for_lead(lead=self.get_parent(), **query.validated_data)
