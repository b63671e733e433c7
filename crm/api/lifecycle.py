"""A lead's data over its life, on the CRM API: everything held about it as one JSON document, and its
erasure everywhere it is stored (crm/services/lead_lifecycle.py)."""
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.auth import request_company
from crm.models import ApiKey, Lead
from crm.services import lead_erase, lead_export_chunks
from salesassist.core.api import UuidField
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import NotFound

TAG_LEADS = "leads"


class LeadErasureSerializer(serializers.Serializer):
    """The audit of a lead's erasure: who asked, when, and how many rows of each table were erased."""

    uuid = UuidField(source="erasure.uuid")
    lead = UuidField(source="erasure.lead_uuid")
    erased_at = serializers.DateTimeField(source="erasure.erased_at")
    erased_by = serializers.SerializerMethodField(help_text="`api_key:<prefix>` or `user:<username>`.")
    erased_counts = serializers.DictField(
        source="erasure.erased_counts", child=serializers.IntegerField(), help_text="Rows erased, per table."
    )
    already_erased = serializers.BooleanField(
        help_text="True when the lead had been erased before: this is that first erasure, nothing changed now."
    )

    def get_erased_by(self, erased) -> str | None:
        erasure = erased["erasure"]
        if erasure.erased_by_api_key_id:
            return f"api_key:{erasure.erased_by_api_key.prefix}"
        if erasure.erased_by_user_id:
            return f"user:{erasure.erased_by_user.get_username()}"
        return None


def company_lead(request, uuid) -> Lead:
    """The caller's company's lead, deleted or erased ones included: its data is still the company's."""
    lead = Lead.all_objects.select_related("company", "owner").filter(company=request_company(request), uuid=uuid).first()
    if lead is None:
        raise NotFound("No such lead.")
    return lead


EXPORT_EXAMPLE = {
    "lead": {"uuid": "3f8e1c2a-5b7d-4e9f-8a1b-2c3d4e5f6a7b", "email": "ada@example.com", "first_name": "Ada"},
    "erasure": None,
    "visitors": [{"uuid": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "user_agent": "Mozilla/5.0"}],
    "lead_receiver_attempts": [],
    "action_states": [{"action": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "stage": "submitted"}],
    "engagements": [{"stage": "submitted", "message": {"email": "ada@example.com"}}],
    "receiver_calls": [],
    "deliveries": [{"status": "succeeded", "attempts": [{"number": 1, "response_status": 200}]}],
}


class LeadExportView(APIView):
    """Everything held about one lead."""

    @extend_schema(
        operation_id="leads_export",
        summary="Export everything held about a lead",
        description=(
            "One JSON document: the lead, its erasure (if it was erased), then one array per kind of row that "
            "holds its data — visitors, lead receiver calls, its state on each action, engagements with their "
            "messages, action receiver calls, deliveries with every attempt and what it sent. Streamed: it starts "
            "at once and does not grow in memory with the lead's history. Deleted and erased leads can be exported "
            "too (an erased one shows what is left: the anonymous skeleton)."
        ),
        tags=[TAG_LEADS],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The lead's data.",
                examples=[OpenApiExample("A lead with one form submission", value=EXPORT_EXAMPLE)],
            ),
            **problem_responses(401, 403, _404="No such lead of the caller's company."),
        },
    )
    def get(self, request, uuid):
        lead = company_lead(request, uuid)
        response = StreamingHttpResponse(
            (chunk.encode() for chunk in lead_export_chunks(lead=lead)), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="lead-{lead.uuid}.json"'
        return response


class LeadEraseView(APIView):
    """Erase one lead's personal data everywhere it is stored."""

    @extend_schema(
        operation_id="leads_erase",
        summary="Erase a lead's personal data everywhere",
        description=(
            "In one transaction: the lead's names, email, phone and custom fields, its visitors' user agents and "
            "first touch, its messages, the bodies, headers and addresses of the inbound calls that carried it, "
            "and what its deliveries sent and got back are erased; its deliveries not sent yet are cancelled (never "
            "sent, not by a replay either). What stays is anonymous: the lead's uuid and status, its engagements' "
            "stages and times, its state on each action, so funnels stay true. The lead is deleted: its pages "
            "answer 404. An audit entry records who asked, when and how many rows of each table were erased. "
            "Erasing again changes nothing and answers the first erasure (`already_erased: true`). Needs a "
            "read-write key."
        ),
        tags=[TAG_LEADS],
        request=None,
        responses={
            200: OpenApiResponse(
                LeadErasureSerializer,
                examples=[
                    OpenApiExample(
                        "Erased now",
                        value={
                            "uuid": "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a",
                            "lead": "3f8e1c2a-5b7d-4e9f-8a1b-2c3d4e5f6a7b",
                            "erased_at": "2026-12-02T18:00:00Z",
                            "erased_by": "api_key:1a2b3c4d",
                            "erased_counts": {"crm.Lead": 1, "action_engine.Message": 2, "workflows.DeliveryAttempt": 3},
                            "already_erased": False,
                        },
                    )
                ],
            ),
            **problem_responses(401, _403="The key is read-only, or does not belong to an active company.", _404="No such lead of the caller's company."),
        },
    )
    def post(self, request, uuid):
        lead = company_lead(request, uuid)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        erasure, erased_now = lead_erase(
            lead=lead, erased_by_api_key=api_key, erased_by_user=None if api_key else request.user
        )
        return Response(LeadErasureSerializer({"erasure": erasure, "already_erased": not erased_now}).data)
