"""API-key endpoints of the public flow: share an action with a lead, read its funnel, replay receiver calls."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from action_engine.errors import ActionEngineError
from action_engine.models import ActionCompany, ReceiverCall
from action_engine.selectors import action_company_funnel
from action_engine.services import action_company_share, receiver_call_replay
from crm.auth import request_company
from crm.models import Lead
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import Conflict, NotFound

from .company_actions import TAG_COMPANY_ACTIONS
from .public_serializers import (
    ActionShareCreateSerializer,
    ActionSharedSerializer,
    FunnelQuerySerializer,
    FunnelSerializer,
    ReceiverCallSerializer,
)


def company_action_of_caller(request, uuid) -> ActionCompany:
    action_company = (
        ActionCompany.objects.select_related("action__system", "company")
        .filter(company=request_company(request), uuid=uuid)
        .first()
    )
    if action_company is None:
        raise NotFound("No such company action.")
    return action_company


class CompanyActionShareView(APIView):
    """Send a company action to a lead: a new visitor, a `sent` engagement and a signed link."""

    @extend_schema(
        operation_id="company_actions_share",
        summary="Share a company action with a lead",
        description=(
            "Creates a visitor for the lead and a `sent` engagement, and returns the action page URL with the "
            "lead, the visitor and a signed token that expires (30 days, or the company's "
            'settings["link_ttl_days"]). Sharing twice gives two visitors. With `"channel": "email"` the link is '
            "also emailed to the lead, with the company's template (settings[\"share_email\"]: subject and body "
            "with the placeholders {first_name}, {last_name}, {full_name}, {action_name}, {company_name}, {link}) "
            "and an unsubscribe link; the engagement's meta records the channel and the email's Message-ID. A lead "
            "who unsubscribed is a 409 `lead_unsubscribed`, one without an email a 422 `lead_without_email`."
        ),
        tags=[TAG_COMPANY_ACTIONS],
        request=ActionShareCreateSerializer,
        examples=[
            OpenApiExample(
                "Email the link",
                value={"lead": "3f0c8a4e-1b2d-4c5e-9f60-7a8b9c0d1e2f", "channel": "email"},
                request_only=True,
            ),
            OpenApiExample(
                "Emailed",
                value={
                    "url": "https://localhost:8000/a/5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d/?lead=3f0c8a4e-1b2d-4c5e"
                    "-9f60-7a8b9c0d1e2f&visitor=0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d&token=eyJh...",
                    "visitor": "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d",
                    "engagement": "9e8d7c6b-5a49-4382-a716-152433221100",
                    "expires_at": "2026-01-31T12:00:00Z",
                    "channel": "email",
                    "email_message_id": "<176500000000.12345.6789012345678901234@salesassist.example>",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
        responses={
            201: ActionSharedSerializer,
            **problem_responses(
                401,
                _400="Invalid input: the lead is not one of the company's.",
                _403="The key is read-only.",
                _404="No such company action.",
                _409="The company action is inactive or unpublished, or the lead unsubscribed from emails.",
                _422="Channel email: the lead has no email address.",
                _503="Channel email: the email server did not take the email (nothing was recorded).",
            ),
        },
    )
    def post(self, request, uuid):
        company = request_company(request)
        action_company = company_action_of_caller(request, uuid)
        serializer = ActionShareCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = Lead.objects.filter(company=company, uuid=serializer.validated_data["lead"]).first()
        if lead is None:
            raise ValidationError({"lead": ["No such lead."]})
        if not action_company.is_active or not action_company.is_published:
            raise Conflict(
                "An inactive or unpublished action cannot be shared.", code=ActionEngineError.ACTION_NOT_SHAREABLE
            )
        shared = action_company_share(
            action_company=action_company, lead=lead, channel=serializer.validated_data["channel"]
        )
        return Response(ActionSharedSerializer(shared).data, status=status.HTTP_201_CREATED)


FUNNEL_STAGES_EXAMPLE = [
    {"stage": "sent", "leads": 120, "conversion": None, "median_seconds_from_previous": None},
    {"stage": "opened", "leads": 84, "conversion": 0.7, "median_seconds_from_previous": 5400.0},
    {"stage": "submitted", "leads": 21, "conversion": 0.25, "median_seconds_from_previous": 720.5},
]


class CompanyActionFunnelView(APIView):
    """How many leads reached each stage of a company action, the conversion and the time between stages."""

    @extend_schema(
        operation_id="company_actions_funnel",
        summary="Read a company action's funnel",
        description=(
            "The leads that started on the action in [since, until) — a lead starts when it first engaged on it, "
            "in practice when it was sent — counted for each stage of the pipeline they reached (or passed), "
            "the conversion from each stage to the next and the median time between them. Dates (YYYY-MM-DD, "
            "their start in UTC) or date-times. `owner` (username), `source` (the lead's) and `utm_source` (the "
            "first touch's on the action) narrow it; `bucket=day|week|month` adds `buckets`, each the funnel of "
            "the leads that started in it, cut in the time zone `tz` (IANA, default the server's TIME_ZONE, UTC "
            "unless configured); `split=utm_source` cuts by utm_source too. Counted from the pipeline state in "
            "one or two queries, however many leads."
        ),
        tags=[TAG_COMPANY_ACTIONS],
        parameters=[FunnelQuerySerializer],
        responses={
            200: FunnelSerializer,
            **problem_responses(
                401,
                _400="since or until is not a date, until is not after since, or bucket, tz or split is unknown.",
                _403="The key does not belong to an active company.",
                _404="No such company action.",
            ),
        },
        examples=[
            OpenApiExample(
                "Whole range",
                summary="since=2026-03-01&until=2026-04-01",
                value={
                    "action": "5d0c2a1e-8f3b-4a7c-9e21-3b4d5e6f7a80",
                    "since": "2026-03-01T00:00:00Z",
                    "until": "2026-04-01T00:00:00Z",
                    "stages": FUNNEL_STAGES_EXAMPLE,
                    "overall_conversion": 0.175,
                },
                response_only=True,
            ),
            OpenApiExample(
                "Weekly in Paris",
                summary="since=2026-03-02&bucket=week&tz=Europe/Paris",
                value={
                    "action": "5d0c2a1e-8f3b-4a7c-9e21-3b4d5e6f7a80",
                    "since": "2026-03-02T00:00:00Z",
                    "until": None,
                    "stages": FUNNEL_STAGES_EXAMPLE,
                    "overall_conversion": 0.175,
                    "bucket": "week",
                    "tz": "Europe/Paris",
                    "buckets": [
                        {
                            "start": "2026-03-01T23:00:00Z",
                            "day": "2026-03-02",
                            "stages": FUNNEL_STAGES_EXAMPLE,
                            "overall_conversion": 0.175,
                        }
                    ],
                },
                response_only=True,
            ),
        ],
    )
    def get(self, request, uuid):
        action_company = company_action_of_caller(request, uuid)
        query = FunnelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        funnel = action_company_funnel(action_company=action_company, **query.validated_data)
        return Response(FunnelSerializer(funnel).data)


class ReceiverCallReplayView(APIView):
    """Process a failed receiver call again."""

    @extend_schema(
        operation_id="receiver_calls_replay",
        summary="Replay a failed receiver call",
        description=(
            "Runs the stored call through the receiver's mapping again (after fixing the mapping, or once the "
            "lead exists). The signature was checked on arrival; a call rejected for its signature kept no "
            "body and cannot be replayed. Answers the call with its new outcome."
        ),
        tags=[TAG_COMPANY_ACTIONS],
        request=None,
        responses={
            200: ReceiverCallSerializer,
            **problem_responses(
                401,
                _403="The key is read-only.",
                _404="No such receiver call.",
                _409="The call was processed already, or was rejected for its signature.",
            ),
        },
    )
    def post(self, request, uuid):
        call = (
            ReceiverCall.objects.select_related("receiver").filter(company=request_company(request), uuid=uuid).first()
        )
        if call is None:
            raise NotFound("No such receiver call.")
        handled = receiver_call_replay(receiver_call=call)
        return Response(ReceiverCallSerializer(handled.call).data)
