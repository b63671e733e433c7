"""Lead receivers' calls: the public endpoint where a third party posts a lead (no API key), and the
API-key replay of a call that failed."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.auth import request_company
from crm.models import LeadReceiver, LeadReceiverAttempt
from crm.services import lead_receive, lead_receiver_attempt_replay, lead_receiver_attempt_store
from salesassist.core.api import UuidField
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import NotFound
from salesassist.core.inbound.models import InboundOutcome
from salesassist.core.inbound.views import InboundCallView


class LeadReceivedSerializer(serializers.Serializer):
    """The lead a call created or updated."""

    lead = UuidField(source="lead.uuid")
    duplicate = serializers.BooleanField(help_text="True when an existing lead (same email or phone) was updated.")
    attempt = UuidField(source="attempt.uuid", help_text="The stored call's uuid.")


class LeadReceiverAttemptReplayedSerializer(serializers.Serializer):
    """A stored call to a lead receiver after its replay: its new outcome and the lead it made or updated."""

    uuid = UuidField(source="attempt.uuid")
    receiver = UuidField(source="attempt.receiver.uuid")
    outcome = serializers.ChoiceField(source="attempt.outcome", choices=InboundOutcome.choices)
    error = serializers.JSONField(
        source="attempt.error", allow_null=True, help_text="The problem that stopped it, when it failed again."
    )
    lead = UuidField(source="attempt.lead.uuid", allow_null=True, default=None)
    duplicate = serializers.BooleanField(
        help_text="True when the lead existed already (same email or phone, e.g. made before a crash) and was updated."
    )
    source_ip = serializers.IPAddressField(source="attempt.source_ip", allow_null=True)
    created_at = serializers.DateTimeField(source="attempt.created_at")
    processed_at = serializers.DateTimeField(source="attempt.processed_at", allow_null=True)


class LeadReceiverCallView(InboundCallView):
    """Receive a lead from a third party; the raw call is kept before anything else."""

    receivers = LeadReceiver.objects.select_related("company").filter(is_active=True, company__is_active=True)
    calls = LeadReceiverAttempt
    not_found = "No such lead receiver."
    call_field = "attempt"
    throttle_prefix = "lead:"
    store = staticmethod(lead_receiver_attempt_store)

    def process(self, *, receiver, call):
        return lead_receive(receiver=receiver, attempt=call)

    def answer(self, handled):
        return Response(
            LeadReceivedSerializer(handled).data,
            status=status.HTTP_200_OK if handled.duplicate else status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="lead_receiver_call_create",
        summary="Post a lead to a lead receiver",
        description=(
            "Any JSON object. The raw call is stored first; the receiver's template (dot paths per lead field, "
            "defaults, unmapped keys into custom_fields) builds the lead. A lead of the company with the same "
            "normalized email or phone is updated instead (`duplicate: true`, 200). Bad payloads are a 400 "
            "with field errors and the call is kept. When the receiver has a secret, the call must carry a valid "
            "Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature), checked before "
            "anything is stored: a call failing it is a 401 kept only as a small record (headers, body size, "
            "why), without its body and not replayable; past THROTTLE_RECEIVER_SIGNATURE_FAILURES such calls "
            "to the receiver are a 429 and not kept."
        ),
        tags=["lead receivers"],
        auth=[],
        request=OpenApiTypes.OBJECT,
        responses={
            201: OpenApiResponse(LeadReceivedSerializer, description="A new lead."),
            200: OpenApiResponse(LeadReceivedSerializer, description="An existing lead, updated."),
            **problem_responses(
                _400="The body is not a JSON object, or the lead's fields are invalid (see errors).",
                _401="The receiver has a secret and the signature is missing, malformed, stale or invalid.",
                _404="No such active lead receiver.",
                _409="The email and the phone belong to two different leads.",
                _413="The body is too large.",
                _429="Too many calls, or too many calls to this receiver failed their signature check.",
            ),
        },
    )
    def post(self, request, receiver_uuid):
        return self.receive(request, receiver_uuid)


class LeadReceiverAttemptReplayView(APIView):
    """Process a failed lead receiver call again."""

    @extend_schema(
        operation_id="lead_receiver_attempts_replay",
        summary="Replay a failed lead receiver call",
        description=(
            "Runs the stored call through the receiver's template again (after fixing the template, or the cause "
            "of an error on our side) and answers with its new outcome: `processed` with the lead, or `failed` "
            "with the error. A call cut off while it was processed (still `received` after 5 minutes) can be "
            "replayed too; a lead it made already is updated, never made twice. The call's uuid is the "
            "`attempt` of the receiver's answer."
        ),
        tags=["lead receivers"],
        request=None,
        responses={
            200: LeadReceiverAttemptReplayedSerializer,
            **problem_responses(
                401,
                _403="The key is read-only, or does not belong to an active company.",
                _404="No such lead receiver call.",
                _409="The call was processed already, came less than 5 minutes ago (may be processing), or was "
                "rejected for its signature (nothing was kept to replay).",
            ),
        },
    )
    def post(self, request, uuid):
        attempt = LeadReceiverAttempt.objects.filter(company=request_company(request), uuid=uuid).first()
        if attempt is None:
            raise NotFound("No such lead receiver call.")
        replayed = lead_receiver_attempt_replay(attempt=attempt)
        return Response(LeadReceiverAttemptReplayedSerializer(replayed).data)
