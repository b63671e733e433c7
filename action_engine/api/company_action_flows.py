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


def _company_action(request, uuid) -> ActionCompany:
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
        action_company = _company_action(request, uuid)
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


class CompanyActionFunnelView(APIView):
    """How many leads reached each stage of a company action, and the conversion between stages."""

    @extend_schema(
        operation_id="company_actions_funnel",
        summary="Read a company action's funnel",
        description=(
            "Distinct leads that reached each stage of the pipeline (or a later one) with engagements in "
            "[since, until), and the conversion from each stage to the next. Dates (YYYY-MM-DD) or date-times."
        ),
        tags=[TAG_COMPANY_ACTIONS],
        parameters=[FunnelQuerySerializer],
        responses={
            200: FunnelSerializer,
            **problem_responses(
                401,
                _400="since or until is not a date, or until is not after since.",
                _403="The key does not belong to an active company.",
                _404="No such company action.",
            ),
        },
    )
    def get(self, request, uuid):
        action_company = _company_action(request, uuid)
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
