"""A company action's board (`company-actions/{uuid}/leads`): its leads where they stand, filtered by stage."""
import re
from datetime import timedelta

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from django.utils.dateparse import parse_duration
from rest_framework import generics, serializers

from action_engine.choices import Stage
from action_engine.models import LeadActionState
from action_engine.selectors import lead_board
from salesassist.core.api import QuerySerializer, UuidField
from salesassist.core.errors import problem_responses
from salesassist.core.pagination import CursorPagination

from .company_action_flows import company_action_of_caller
from .company_actions import TAG_COMPANY_ACTIONS

# Seconds (a whole number), or an ISO 8601 duration of days, hours, minutes and seconds (P3D, PT12H, P1DT6H):
# no years, months or weeks, whose length varies or which Django does not parse. Bounded so that now minus
# the longest is still a valid time.
_ISO_TIME = r"(?:[0-9]{1,6}H(?:[0-9]{1,8}M)?(?:[0-9]{1,9}S)?|[0-9]{1,8}M(?:[0-9]{1,9}S)?|[0-9]{1,9}S)"
STALLED_FOR_PATTERN = rf"^(?:[0-9]{{1,9}}|P[0-9]{{1,5}}D|P(?:[0-9]{{1,5}}D)?T{_ISO_TIME})$"


@extend_schema_field({"type": "string", "pattern": STALLED_FOR_PATTERN, "example": "P3D"})
class StalledForField(serializers.Field):
    """How long ago the last engagement at least was: seconds, or an ISO 8601 duration (P3D, PT36H)."""

    default_error_messages = {
        "invalid": "Seconds (e.g. 259200) or an ISO 8601 duration of days, hours, minutes, seconds (e.g. P3D, PT12H)."
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or re.fullmatch(STALLED_FOR_PATTERN, data) is None:
            self.fail("invalid")
        return timedelta(seconds=int(data)) if data.isdigit() else parse_duration(data)


class BoardQuerySerializer(QuerySerializer):
    """The filters of a company action's board (all optional, combined with AND)."""

    stage = serializers.ChoiceField(
        choices=Stage.choices, required=False, help_text="Only leads whose current (furthest) stage is this one."
    )
    reached = serializers.ChoiceField(
        choices=Stage.choices, required=False, help_text="Only leads that reached this stage or a later one."
    )
    not_reached = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="Only leads that have not reached this stage (nor a later one).",
    )
    stalled_for = StalledForField(
        required=False,
        help_text=(
            "Only leads whose last engagement on the action is at least this long ago: a whole number of seconds "
            "(`259200`) or an ISO 8601 duration in days, hours, minutes, seconds (`P3D`, `PT36H`, `P1DT12H`)."
        ),
    )


class BoardRowSerializer(serializers.ModelSerializer):
    """One lead on a company action's board: who, whose, where it stands and when it got each stage."""

    lead = UuidField(source="lead.uuid", read_only=True)
    name = serializers.CharField(source="lead.full_name", read_only=True)
    owner = serializers.SlugRelatedField(
        source="lead.owner", slug_field="username", read_only=True, allow_null=True, help_text="The owner's username."
    )
    utm_source = serializers.SerializerMethodField(help_text="The first touch's utm_source on the action, or null.")

    class Meta:
        model = LeadActionState
        fields = [
            "lead",
            "name",
            "owner",
            "stage",
            "sent_at",
            "opened_at",
            "submitted_at",
            "downloaded_at",
            "purchased_at",
            "first_engaged_at",
            "last_engaged_at",
            "engagement_count",
            "utm_source",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_utm_source(self, state: LeadActionState) -> str | None:
        return state.utm_source or None


class BoardCursorPagination(CursorPagination):
    """Most recently engaged first; a page is one range scan of the board index."""

    ordering = ("-last_engaged_at", "-id")


BOARD_ROW_EXAMPLE = {
    "lead": "0b6f3c9e-2a51-4f59-9d0e-6f1b8c3a7d21",
    "name": "Ada Lovelace",
    "owner": "grace",
    "stage": "opened",
    "sent_at": "2026-03-02T09:00:00Z",
    "opened_at": "2026-03-02T11:30:00Z",
    "submitted_at": None,
    "downloaded_at": None,
    "purchased_at": None,
    "first_engaged_at": "2026-03-02T09:00:00Z",
    "last_engaged_at": "2026-03-02T11:30:00Z",
    "engagement_count": 2,
    "utm_source": "newsletter",
}


@extend_schema_view(
    get=extend_schema(
        operation_id="company_actions_leads_list",
        summary="A company action's board: its leads by stage",
        description=(
            "The company action's leads where they stand (deleted leads left out), most recently engaged first, "
            "cursor paged: follow `next`. Each row is the lead, its owner, its current stage, when it first reached "
            "each stage (null: never recorded) and its first-touch `utm_source`. Filters combine: "
            "`reached=opened&not_reached=submitted` is who opened but did not submit; "
            "`not_reached=opened&stalled_for=P3D` who was sent the action and has not opened it for three days. "
            "A stage counts as reached when a later one was (as in the funnel). A stage that is not in the action "
            "system's pipeline is a 400 (`stage_not_in_pipeline`)."
        ),
        tags=[TAG_COMPANY_ACTIONS],
        parameters=[BoardQuerySerializer],
        responses={
            200: BoardRowSerializer(many=True),
            **problem_responses(
                401,
                _400=(
                    "A filter is malformed (a stage not in the vocabulary, a stalled_for that is neither seconds nor an "
                    "ISO 8601 duration), or names a stage the action's pipeline does not have (stage_not_in_pipeline)."
                ),
                _403="The key does not belong to an active company.",
                _404="No such company action.",
            ),
        },
        examples=[
            OpenApiExample(
                "Opened but not submitted",
                summary="reached=opened&not_reached=submitted",
                value={"next": None, "previous": None, "results": [BOARD_ROW_EXAMPLE]},
                response_only=True,
            ),
        ],
    )
)
class CompanyActionBoardView(generics.ListAPIView):
    """The leads of a company action, filtered by the stage they reached (`company-actions/{uuid}/leads`)."""

    serializer_class = BoardRowSerializer
    pagination_class = BoardCursorPagination
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LeadActionState.objects.none()
        action_company = company_action_of_caller(self.request, self.kwargs["uuid"])
        query = BoardQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return lead_board(action_company=action_company, **query.validated_data)
