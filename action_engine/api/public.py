"""The public endpoints that action pages and third parties call: no API key.

They are guarded by uuids (never integer ids), the link's signed token, validation, a body size limit
and rate limits per IP and per action; CORS is allowed per company (action_engine/cors.py).
"""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from action_engine.cors import request_origin_allowed_for
from action_engine.errors import ActionEngineError
from action_engine.pages import default_host_origin
from action_engine.models import ActionCompanyReceiver, ReceiverCall
from action_engine.selectors import (
    PUBLIC_NOT_FOUND,
    action_page_data,
    public_action_company_get,
    public_action_config_get,
    public_engagement_lead_guess,
    public_lead_get,
)
from action_engine.services import (
    LeadNotFound,
    action_link_check,
    engagement_record,
    receiver_call_process,
    receiver_call_store,
)
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import NotFound, PermissionDenied
from salesassist.core.inbound.views import InboundCallView
from salesassist.core.throttling import PublicActionThrottle, PublicEndpointMixin, PublicIpThrottle
from salesassist.core.uuids import canonical_uuid

from .public_serializers import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    EngagementRecordedSerializer,
    HoneypotAcceptedSerializer,
    PublicActionPageQuerySerializer,
    PublicActionPageSerializer,
    PublicEngagementCreateSerializer,
    ReceiverCallRecordedSerializer,
)

PUBLIC_TAG = "public"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The same key (per company) records once and answers the first answer again, with `Idempotent-Replayed: "
        "true`; the same key with a different request (action, lead, visitor, stage or message) is a 422 "
        "`idempotency_key_mismatch`. Send one new key per submission and the same key on its retries."
    ),
)

REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    description="`true` when this answers an engagement recorded before (a retry), not a new one.",
)


def posted_action(request) -> str | None:
    """The action a posted body names, for the per-action rate limit; None unless it is a canonical uuid
    (only that spelling is accepted; str() makes "ABC…" and "abc…" count as one action)."""
    action = canonical_uuid(request.data.get("action")) if isinstance(request.data, dict) else None
    return str(action) if action else None


@method_decorator(never_cache, name="dispatch")
class PublicActionPageView(PublicEndpointMixin, APIView):
    """What an action page needs to render, for one lead."""

    throttle_classes = [PublicIpThrottle, PublicActionThrottle]

    def throttle_subject(self, request):
        return str(self.kwargs["action_uuid"])

    @extend_schema(
        operation_id="public_action_page_retrieve",
        summary="Read an action page's data",
        description=(
            "The company action, its modules in order (products with variants and prices, content, form "
            "schema), the lead's stage on it and the lead's first name. An unknown, inactive or unpublished "
            "action and a lead of another company get the same 404."
        ),
        tags=[PUBLIC_TAG],
        auth=[],
        parameters=[PublicActionPageQuerySerializer],
        responses={
            200: PublicActionPageSerializer,
            **problem_responses(
                _400="The lead or visitor is missing or not a uuid.",
                _403="The token is missing (unless the company turned tokens off), invalid, expired or for "
                "other uuids.",
                _404="No such action for this lead.",
                _429="Too many requests from this address or for this action.",
            ),
        },
    )
    def get(self, request, action_uuid):
        query = PublicActionPageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        action_company = public_action_company_get(action_uuid=action_uuid)
        lead = public_lead_get(action_company=action_company, lead_uuid=query.validated_data["lead"])
        action_link_check(
            action_company=action_company,
            lead_uuid=lead.uuid,
            visitor_uuid=query.validated_data["visitor"],
            token=query.validated_data.get("token", ""),
        )
        data = action_page_data(action_company=action_company, lead=lead, site_origin=default_host_origin(request))
        return Response(PublicActionPageSerializer(data).data)


class PublicEngagementCreateView(PublicEndpointMixin, APIView):
    """Record a stage a lead reached on an action page."""

    throttle_classes = [PublicIpThrottle, PublicActionThrottle]

    def throttle_subject(self, request):
        return posted_action(request)

    @extend_schema(
        operation_id="public_engagement_create",
        summary="Record an engagement",
        description=(
            "The stage must be in the action system's pipeline; the result stage's message is validated by "
            "the system (a form's JSON Schema, a cart against the action's products with prices recomputed, "
            "content among the action's). A stage behind the lead's furthest one is recorded but does not "
            "move the lead back. The same Idempotency-Key (or submission_id) records once and answers the "
            "same 201 again (`Idempotent-Replayed: true`); reused with a different request it is a 422. Without a "
            "key, a request identical to one recorded for the lead within ENGAGEMENT_DEDUPE_SECONDS (10 s by "
            "default) is answered as that one too. A filled honeypot gets 202 and nothing is recorded. `attribution` "
            "(the page URL's utm_* parameters, the referrer, the landing URL; unknown keys refused) is kept on the "
            "engagement's `meta` and, the first time the visitor carries any, as its first touch."
        ),
        tags=[PUBLIC_TAG],
        auth=[],
        parameters=[IDEMPOTENCY_HEADER, REPLAYED_HEADER],
        request=PublicEngagementCreateSerializer,
        responses={
            201: EngagementRecordedSerializer,
            202: OpenApiResponse(HoneypotAcceptedSerializer, description="Dropped as a bot; nothing recorded."),
            **problem_responses(
                _400="Malformed JSON, invalid fields, a stage outside the pipeline or a message the system refuses.",
                _403="The token is missing (unless the company turned tokens off), invalid, expired or for other "
                "uuids; or the page's origin is not allowed for this company.",
                _404="No such action for this lead.",
                _409="The visitor belongs to another lead of this company.",
                _413="The body is too large.",
                _422="The idempotency key was already used for a different request (idempotency_key_mismatch).",
                _429="Too many requests from this address or for this action.",
            ),
        },
    )
    def post(self, request):
        serializer = PublicEngagementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("honeypot"):
            # Bots fill every field; answering 2xx gives them no reason to try again differently. Invalid
            # input is a 400 first, as for anyone: the schema promises that.
            return Response({"status": "accepted"}, status=status.HTTP_202_ACCEPTED)
        # The lead first: its statement also reads the configuration version the config below is checked by.
        lead = public_engagement_lead_guess(action_uuid=data["action"], lead_uuid=data["lead"])
        config = public_action_config_get(action_uuid=data["action"])
        action_company = config.action_company()
        action_link_check(
            action_company=action_company,
            lead_uuid=data["lead"],
            visitor_uuid=data["visitor"],
            token=data.get("token", ""),
        )
        origin = request.headers.get("Origin")
        if origin and not request_origin_allowed_for(origin=origin, company=action_company.company):
            raise PermissionDenied(
                "This page's origin may not post results for this action.", code=ActionEngineError.ORIGIN_NOT_ALLOWED
            )
        key = (request.headers.get("Idempotency-Key") or data.get("submission_id") or "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise ValidationError({"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]})
        try:
            recorded = engagement_record(
                action_company=action_company,
                config=config,
                lead=lead,
                lead_uuid=data["lead"],
                stage=data["stage"],
                message=data["message"],
                visitor_uuid=data["visitor"],
                idempotency_key=f"public:{key}" if key else "",
                user_agent=request.headers.get("User-Agent", ""),
                attribution=data.get("attribution"),
            )
        except LeadNotFound:
            # The same 404 as an unknown action: a page's caller learns nothing about which it was.
            raise NotFound(PUBLIC_NOT_FOUND) from None
        headers = {"Idempotent-Replayed": "true"} if recorded.replayed else {}
        return Response(EngagementRecordedSerializer(recorded).data, status=status.HTTP_201_CREATED, headers=headers)


class ReceiverCallCreateView(InboundCallView):
    """A third party posts a company action's result; the raw call is stored before anything else."""

    receivers = ActionCompanyReceiver.objects.select_related("action_company").filter(is_active=True)
    calls = ReceiverCall
    not_found = "No such receiver."
    call_field = "receiver_call"
    store = staticmethod(receiver_call_store)

    def process(self, *, receiver, call):
        return receiver_call_process(receiver_call=call)

    def answer(self, handled):
        data = EngagementRecordedSerializer(handled.recorded).data
        data[self.call_field] = str(handled.call.uuid)
        headers = {"Idempotent-Replayed": "true"} if handled.recorded.replayed else {}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        operation_id="receiver_call_create",
        summary="Post a result to a company action receiver",
        description=(
            "Any JSON object. The raw call (headers without credentials, body, source IP, time) is stored "
            "first, then the receiver's mapping (dot paths for lead, visitor, stage and message; a default "
            "stage) turns it into an engagement; a call without a visitor uuid is refused. When the receiver "
            "has a secret, the call must carry a valid Standard Webhooks signature (webhook-id, "
            "webhook-timestamp, webhook-signature), checked before anything is stored: a call failing it is a "
            "401 kept only as a small record (headers, body size, why), without its body and not replayable; "
            "past THROTTLE_RECEIVER_SIGNATURE_FAILURES such calls to the receiver are a 429 and not kept. A "
            "webhook-id is the sender's idempotency key: a retry with it records once and answers the same "
            "again (`Idempotent-Replayed: true`), another body with it is a 422. Without one, a call identical "
            "to one recorded within ENGAGEMENT_DEDUPE_SECONDS is answered as that one. A failed call keeps its "
            "error and can be replayed."
        ),
        tags=[PUBLIC_TAG],
        auth=[],
        parameters=[REPLAYED_HEADER],
        request=OpenApiTypes.OBJECT,
        responses={
            201: ReceiverCallRecordedSerializer,
            **problem_responses(
                _400="The body is not JSON, or could not be mapped (no lead, visitor or stage), or the message "
                "was refused.",
                _401="The receiver has a secret and the signature is missing, malformed, stale or invalid.",
                _404="No such active receiver, or no such lead.",
                _409="The visitor belongs to another lead of this company.",
                _413="The body is too large.",
                _422="The webhook-id was already used for a different call (idempotency_key_mismatch).",
                _429="Too many calls, or too many calls to this receiver failed their signature check.",
            ),
        },
    )
    def post(self, request, receiver_uuid):
        return self.receive(request, receiver_uuid)


@extend_schema(exclude=True)
class BenchBaselineView(PublicEndpointMixin, APIView):
    """Benchmark only (BENCH_BASELINE_ENDPOINT=1): one INSERT through the same stack as engagements.

    bench/engagements.py compares engagement throughput with this; it is never routed otherwise.
    """

    throttle_classes = [PublicIpThrottle, PublicActionThrottle]

    def throttle_subject(self, request):
        return posted_action(request)

    def post(self, request, company_id):
        from action_engine.models import Message

        message = Message.objects.create(company_id=company_id, body=request.data.get("message") or {})
        return Response({"uuid": str(message.uuid)}, status=status.HTTP_201_CREATED)
