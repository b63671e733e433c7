"""Views of the CRM API (api.crm): leads, visitors, lead receivers, a lead's feed, the caller's company."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from action_engine.models import Engagement
from crm import services
from crm.auth import request_company
from crm.models import Lead, LeadReceiver, Visitor
from crm.selectors import feed_for_lead
from salesassist.core.api import crud_schema, uuid_path_parameter
from salesassist.core.errors import problem_responses
from salesassist.core.pagination import CursorPagination

from .filters import LeadFilterSet, LeadReceiverFilterSet, VisitorFilterSet
from .serializers import (
    CompanySerializer,
    FeedEntrySerializer,
    LeadFeedQuerySerializer,
    LeadReceiverSerializer,
    LeadSerializer,
    VisitorSerializer,
)
from .tenancy import CompanyModelViewSet, CompanyReadOnlyViewSet, NestedParentMixin

TAG_LEADS = "leads"


@crud_schema(
    operation_prefix="leads",
    noun="lead",
    serializer=LeadSerializer,
    tag=TAG_LEADS,
    destroy_description="Soft delete: the lead disappears from the API, its engagements and visitors stay.",
)
class LeadViewSet(CompanyModelViewSet):
    """A company's leads; an email or phone another lead already has is a 400 field error."""

    queryset = Lead.objects.select_related("owner")
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    search_fields = ["first_name", "last_name", "email", "phone", "source"]
    ordering_fields = ["created_at", "updated_at", "first_name", "last_name", "email", "status"]
    ordering = ["-created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.lead_create(company=self.company, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.lead_update(lead=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.lead_soft_delete(lead=instance)


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
class LeadReceiverViewSet(CompanyModelViewSet):
    """Inbound URLs where third parties post leads into the company's CRM."""

    queryset = LeadReceiver.objects.select_related("default_owner")
    serializer_class = LeadReceiverSerializer
    filterset_class = LeadReceiverFilterSet
    search_fields = ["name", "source"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.lead_receiver_create(company=self.company, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.lead_receiver_update(receiver=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.lead_receiver_delete(receiver=instance)


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
