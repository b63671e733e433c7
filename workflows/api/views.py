"""Views of the workflows API on api.action-engine: workflows (CRUD, secret rotation, recovery, test mode)
and deliveries (read, replay)."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.tenancy import CompanyReadOnlyViewSet, CompanyServiceModelViewSet
from salesassist.core.errors import problem_responses
from salesassist.core.filters import StrictDjangoFilterBackend
from salesassist.core.pagination import CursorPagination

from .. import services
from ..models import Workflow
from ..selectors import delivery_list
from .filters import DeliveryFilterSet, WorkflowFilterSet
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    WorkflowCreatedSerializer,
    WorkflowRecoveredSerializer,
    WorkflowRecoverSerializer,
    WorkflowSecretSerializer,
    WorkflowSerializer,
    WorkflowTestInputSerializer,
    WorkflowTestResultSerializer,
)

TAG_WORKFLOWS = "workflows"
TAG_DELIVERIES = "deliveries"
READ_PROBLEMS = (401, 403, 404)
WRITE_PROBLEMS = (400, 401, 403, 404, 415)


@extend_schema_view(
    list=extend_schema(
        operation_id="workflows_list",
        summary="List workflows",
        tags=[TAG_WORKFLOWS],
        responses={200: WorkflowSerializer(many=True), **problem_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        operation_id="workflows_retrieve",
        summary="Read one workflow",
        tags=[TAG_WORKFLOWS],
        responses={200: WorkflowSerializer, **problem_responses(*READ_PROBLEMS)},
    ),
    create=extend_schema(
        operation_id="workflows_create",
        summary="Create a workflow",
        description="A webhook's signing secret (`whsec_…`) is in this answer only: store it now.",
        tags=[TAG_WORKFLOWS],
        request=WorkflowSerializer,
        responses={201: WorkflowCreatedSerializer, **problem_responses(400, 401, 403, 415)},
    ),
    update=extend_schema(
        operation_id="workflows_update",
        summary="Replace a workflow",
        tags=[TAG_WORKFLOWS],
        responses={200: WorkflowSerializer, **problem_responses(*WRITE_PROBLEMS)},
    ),
    partial_update=extend_schema(
        operation_id="workflows_partial_update",
        summary="Change some fields of a workflow",
        tags=[TAG_WORKFLOWS],
        responses={200: WorkflowSerializer, **problem_responses(*WRITE_PROBLEMS)},
    ),
    destroy=extend_schema(
        operation_id="workflows_destroy",
        summary="Delete a workflow",
        description="Soft delete: it stops firing; its deliveries and their attempts are kept.",
        tags=[TAG_WORKFLOWS],
        responses={204: None, **problem_responses(*READ_PROBLEMS)},
    ),
)
class WorkflowViewSet(CompanyServiceModelViewSet):
    """A company's workflows: deliveries of its events to third parties (webhook, email)."""

    queryset = Workflow.objects.all()
    serializer_class = WorkflowSerializer
    filterset_class = WorkflowFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    create_service = services.workflow_create
    update_service = services.workflow_update
    destroy_service = services.workflow_delete
    instance_kwarg = "workflow"

    def create(self, request, *args, **kwargs):
        # The answer shows the new signing secret, once: another serializer than the one that validates.
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(WorkflowCreatedSerializer(serializer.instance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="workflows_rotate_secret",
        summary="Rotate the signing secret",
        description="Returns the new secret once. For 24 hours deliveries carry a second signature made with "
        "the previous secret, so receivers can switch without losing a delivery.",
        tags=[TAG_WORKFLOWS],
        request=None,
        responses={200: WorkflowSecretSerializer, **problem_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, uuid=None):
        workflow = self.get_object()
        secret = services.workflow_rotate_secret(workflow=workflow)
        body = {"secret": secret, "previous_secret_expires_at": workflow.previous_secret_expires_at}
        return Response(WorkflowSecretSerializer(body).data)

    @extend_schema(
        operation_id="workflows_recover",
        summary="Attempt failed and dead deliveries again",
        description="Queues one manual attempt for every failed or dead delivery of this workflow created "
        "since `since`. A manual attempt does not restart a delivery's retry schedule.",
        tags=[TAG_WORKFLOWS],
        request=WorkflowRecoverSerializer,
        responses={202: WorkflowRecoveredSerializer, **problem_responses(*WRITE_PROBLEMS)},
    )
    @action(detail=True, methods=["post"])
    def recover(self, request, uuid=None):
        workflow = self.get_object()
        serializer = WorkflowRecoverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        since = serializer.validated_data["since"]
        queued = services.workflow_recover(workflow=workflow, since=since)
        return Response(
            WorkflowRecoveredSerializer({"since": since, "queued": queued}).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        operation_id="workflows_test",
        summary="Send a sample event now",
        description="Sends a made-up event (an engagement, or the event type asked for) through the workflow at "
        "once (signed like a real delivery) and returns the exact request and the response. Nothing is stored.",
        tags=[TAG_WORKFLOWS],
        request=WorkflowTestInputSerializer,
        responses={200: WorkflowTestResultSerializer, **problem_responses(*WRITE_PROBLEMS)},
    )
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request, uuid=None):
        workflow = self.get_object()
        serializer = WorkflowTestInputSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        outcome = services.workflow_test(
            workflow=workflow,
            stage=serializer.validated_data.get("stage"),
            event_type=serializer.validated_data.get("event_type"),
        )
        return Response(WorkflowTestResultSerializer(outcome).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="deliveries_list",
        summary="List deliveries",
        description="Newest first, cursor paged. Filter by workflow, engagement, lead (uuids), event type and "
        "status.",
        tags=[TAG_DELIVERIES],
        responses={200: DeliverySerializer(many=True), **problem_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        operation_id="deliveries_retrieve",
        summary="Read one delivery with its attempts",
        tags=[TAG_DELIVERIES],
        responses={200: DeliveryDetailSerializer, **problem_responses(*READ_PROBLEMS)},
    ),
)
class DeliveryViewSet(CompanyReadOnlyViewSet):
    """The company's deliveries: one per workflow and event, with every attempt."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    filter_backends = [StrictDjangoFilterBackend]
    pagination_class = CursorPagination

    def get_queryset(self):
        queryset = delivery_list(company=self.company)
        if self.action in ("retrieve", "replay"):
            queryset = queryset.prefetch_related("attempt_log")
        return queryset

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action in ("retrieve", "replay") else DeliverySerializer

    @extend_schema(
        operation_id="deliveries_replay",
        summary="Attempt one delivery again, now",
        description="One manual attempt, whatever the delivery's status; the answer is the delivery with its "
        "attempts, the new one last. It does not restart the retry schedule. 409 while a worker is sending it.",
        tags=[TAG_DELIVERIES],
        request=None,
        responses={
            200: DeliveryDetailSerializer,
            **problem_responses(
                401, 403, 404, _409="A worker is sending this delivery right now; try again in a moment."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, uuid=None):
        delivery = self.get_object()
        services.delivery_replay(delivery=delivery)
        return Response(DeliveryDetailSerializer(self.get_queryset().get(pk=delivery.pk)).data)
