"""Serializers of the CRM API: module-level, uniquely named (they are OpenAPI component names)."""
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from action_engine.choices import Stage
from action_engine.models import Engagement
from crm.auth import request_company
from crm.models import Company, Lead, LeadReceiver, Visitor
from salesassist.core.api import StrictModelSerializer

# The public lead receiver path, pinned by the issue (the public-flow routes serve it).
LEAD_RECEIVER_PATH = "/v1/receivers/{uuid}/leads"


class CompanyMemberField(serializers.SlugRelatedField):
    """A staff user named by username, chosen among the members of the caller's company."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self):
        company = request_company(self.context["request"])
        return get_user_model().objects.filter(memberships__company=company, is_active=True)


class CompanySerializer(serializers.ModelSerializer):
    """The caller's company."""

    class Meta:
        model = Company
        fields = ["uuid", "name", "slug", "is_active", "settings", "created_at", "updated_at"]
        read_only_fields = fields


class LeadSerializer(StrictModelSerializer):
    """A lead. Email and phone are unique (normalized) among the company's alive leads."""

    owner = CompanyMemberField(
        required=False, allow_null=True, help_text="Username of a staff member of the company, or null."
    )
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "uuid",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "owner",
            "status",
            "source",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def validate_custom_fields(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def validate(self, attrs):
        names = ("first_name", "last_name", "email", "phone")
        merged = {name: attrs.get(name, getattr(self.instance, name, "")) for name in names}
        if not any(merged.values()):
            raise serializers.ValidationError("A lead needs at least a name, an email or a phone.")
        return attrs


class VisitorSerializer(serializers.ModelSerializer):
    """A browser identity, linked to a lead once known."""

    lead = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Visitor
        fields = ["uuid", "lead", "first_seen_at", "last_seen_at", "user_agent", "created_at"]
        read_only_fields = fields


class LeadReceiverSerializer(StrictModelSerializer):
    """An inbound URL where a third party posts leads, with its field mapping."""

    default_owner = CompanyMemberField(
        required=False, allow_null=True, help_text="Username of the staff member who owns the leads it creates."
    )
    url = serializers.SerializerMethodField(help_text="Where the third party posts leads (no API key).")

    class Meta:
        model = LeadReceiver
        fields = [
            "uuid",
            "name",
            "template",
            "default_owner",
            "source",
            "is_active",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def validate_template(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def get_url(self, receiver: LeadReceiver) -> str:
        path = LEAD_RECEIVER_PATH.format(uuid=receiver.uuid)
        request = self.context.get("request")
        # The receiver is served on the host this API answers on.
        return request.build_absolute_uri(path) if request is not None else path


class FeedActionTypeSerializer(serializers.Serializer):
    """The action type of a feed entry's company action."""

    uuid = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()


class FeedActionSystemSerializer(serializers.Serializer):
    """The action system of a feed entry's company action."""

    uuid = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()


class FeedCompanyActionSerializer(serializers.Serializer):
    """The company action a feed entry happened on."""

    uuid = serializers.UUIDField()
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

    class Meta:
        model = Engagement
        fields = ["uuid", "stage", "previous_stage", "action", "visitor", "message", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_message(self, engagement: Engagement):
        return engagement.message.body if engagement.message_id else None


class LeadFeedQuerySerializer(serializers.Serializer):
    """The filters of a lead's feed."""

    action = serializers.UUIDField(required=False, help_text="Only entries of this company action (its uuid).")
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, help_text="Only entries of this stage.")
    since = serializers.DateTimeField(required=False, help_text="Only entries at or after this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Only entries before this time (ISO 8601).")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs
