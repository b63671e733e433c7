"""Views of the CRM API (api.crm): leads, visitors, lead receivers, the caller's company. A lead's feed,
also served on this host, is the action engine's (action_engine.api.feed)."""
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import services
from crm.auth import request_company
from crm.models import Lead, LeadReceiver, Visitor
from crm.selectors import lead_export
from salesassist.core.api import crud_schema
from salesassist.core.csv_export import csv_export_schema, csv_streaming_response
from salesassist.core.errors import problem_responses

from .filters import LeadFilterSet, LeadReceiverFilterSet, VisitorFilterSet
from .serializers import (
    CompanySerializer,
    LeadReceiverSecretSerializer,
    LeadReceiverSecretSetSerializer,
    LeadReceiverSerializer,
    LeadSerializer,
    VisitorSerializer,
)
from .tenancy import CompanyReadOnlyViewSet, CompanyServiceModelViewSet

TAG_LEADS = "leads"


@crud_schema(
    operation_prefix="leads",
    noun="lead",
    serializer=LeadSerializer,
    tag=TAG_LEADS,
    destroy_description="Soft delete: the lead disappears from the API, its engagements and visitors stay.",
)
class LeadViewSet(CompanyServiceModelViewSet):
    """A company's leads; an email or phone another lead already has is a 400 field error."""

    queryset = Lead.objects.select_related("owner")
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    search_fields = ["first_name", "last_name", "email", "phone", "source"]
    ordering_fields = ["created_at", "updated_at", "first_name", "last_name", "email", "status"]
    ordering = ["-created_at"]
    create_service = services.lead_create
    update_service = services.lead_update
    destroy_service = services.lead_soft_delete
    instance_kwarg = "lead"

    @csv_export_schema(
        operation_id="leads_export_csv",
        summary="Export leads as CSV",
        description=(
            "The leads the list's filters, search and ordering select, as one CSV file streamed while it is read "
            "(any number of rows). Columns: uuid, first_name, last_name, email, phone, owner, status, source, "
            "custom_fields (a JSON object), created_at, updated_at. A cell that a spreadsheet would run as a "
            "formula starts with a quote."
        ),
        tag=TAG_LEADS,
        rows="The leads, one a row.",
        example=(
            "One lead",
            (
                "uuid,first_name,last_name,email,phone,owner,status,source,custom_fields,created_at,"
                "updated_at\r\n3f8e1c2a-5b7d-4e9f-8a1b-2c3d4e5f6a7b,Ada,Lovelace,ada@example.com,,,new,"
                'fair,"{""size"": ""50""}",2026-12-02 18:00:00+00:00,2026-12-02 18:00:00+00:00\r\n'
            ),
        ),
    )
    @action(detail=False, methods=["get"], url_path="export.csv")
    def export_csv(self, request):
        header, rows = lead_export(leads=self.filter_queryset(self.get_queryset()))
        return csv_streaming_response(filename="leads.csv", header=header, rows=rows)


@crud_schema(
    operation_prefix="visitors",
    noun="visitor",
    serializer=VisitorSerializer,
    tag="visitors",
    actions=("list", "retrieve"),
)
class VisitorViewSet(CompanyReadOnlyViewSet):
    """Browser identities seen on the company's action pages (written by the public flow only)."""

    queryset = Visitor.objects.select_related("lead")
    serializer_class = VisitorSerializer
    filterset_class = VisitorFilterSet
    ordering_fields = ["created_at", "last_seen_at"]
    ordering = ["-created_at"]


@crud_schema(
    operation_prefix="lead_receivers",
    noun="lead receiver",
    serializer=LeadReceiverSerializer,
    tag="lead-receivers",
    destroy_description="A receiver that has received calls keeps them and answers 409: deactivate it instead.",
)
class LeadReceiverViewSet(CompanyServiceModelViewSet):
    """Inbound URLs where third parties post leads into the company's CRM."""

    queryset = LeadReceiver.objects.select_related("default_owner")
    serializer_class = LeadReceiverSerializer
    filterset_class = LeadReceiverFilterSet
    search_fields = ["name", "source"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    create_service = services.lead_receiver_create
    update_service = services.lead_receiver_update
    destroy_service = services.lead_receiver_delete
    instance_kwarg = "receiver"

    @extend_schema(
        operation_id="lead_receivers_rotate_secret",
        summary="Set or rotate the signing secret",
        description=(
            "Gives the receiver a new whsec_ secret (generated, or your own), shown only in this answer; from now "
            "on calls must carry a valid Standard Webhooks signature made with it. Neither removes the secret: "
            "calls need not be signed. Takes effect at once (the old secret stops verifying)."
        ),
        tags=["lead-receivers"],
        request=LeadReceiverSecretSetSerializer,
        responses={200: LeadReceiverSecretSerializer, **problem_responses(400, 401, 403, 404, 415)},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, uuid=None):
        receiver = self.get_object()
        body = LeadReceiverSecretSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        receiver = services.lead_receiver_secret_set(
            receiver=receiver, secret=data.get("secret", ""), generate=data["generate_secret"]
        )
        return Response(LeadReceiverSecretSerializer(receiver, context=self.get_serializer_context()).data)


class CompanyViewSet(viewsets.GenericViewSet):
    """The company the caller acts for."""

    serializer_class = CompanySerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        tags=["companies"],
        operation_id="companies_me_retrieve",
        summary="The caller's company",
        responses={200: CompanySerializer, **problem_responses(401, 403)},
    )
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        return Response(self.get_serializer(request_company(request)).data)
