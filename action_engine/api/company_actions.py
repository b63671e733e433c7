"""Company actions (api.action-engine): a company's instances of catalogue actions, with the modules their
pages show and their receivers."""
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from action_engine import services
from action_engine.models import ActionCompany, ActionCompanyReceiver, ActionCompanySystemModule
from crm.api.tenancy import CompanyServiceModelViewSet, NestedParentMixin
from salesassist.core.api import UUID_PATTERN, crud_schema, nested_schema, uuid_path_parameter
from salesassist.core.errors import problem_responses
from salesassist.core.viewsets import ServiceWritesMixin

from .filters import CompanyActionFilterSet
from .serializers import (
    CompanyActionModuleAttachSerializer,
    CompanyActionModuleReorderSerializer,
    CompanyActionModuleSerializer,
    CompanyActionReceiverCreatedSerializer,
    CompanyActionReceiverRotateSerializer,
    CompanyActionReceiverSerializer,
    CompanyActionSerializer,
)

TAG_COMPANY_ACTIONS = "company actions"
COMPANY_ACTION_UUID = uuid_path_parameter("company_action_uuid", "The company action's uuid.")


@crud_schema(
    operation_prefix="company_actions",
    noun="company action",
    serializer=CompanyActionSerializer,
    tag=TAG_COMPANY_ACTIONS,
    destroy_description="Soft delete: its receivers stop accepting calls; its engagements stay.",
)
class CompanyActionViewSet(CompanyServiceModelViewSet):
    """A company's instances of catalogue actions; creating one creates its receiver."""

    queryset = ActionCompany.objects.select_related("action__system").prefetch_related("receivers")
    serializer_class = CompanyActionSerializer
    filterset_class = CompanyActionFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    create_service = services.action_company_create
    update_service = services.action_company_update
    destroy_service = services.action_company_soft_delete
    instance_kwarg = "action_company"

    def service_fields(self, serializer) -> dict:
        fields = super().service_fields(serializer)
        if serializer.instance is not None:
            fields.pop("action", None)  # validated as unchanged
        return fields


class CompanyActionChildMixin(NestedParentMixin):
    """A view under `company-actions/{company_action_uuid}/…`."""

    parent_queryset = ActionCompany.objects.select_related("action__system", "company")
    parent_lookup_kwarg = "company_action_uuid"


@nested_schema(
    tag=TAG_COMPANY_ACTIONS,
    parameters=[COMPANY_ACTION_UUID],
    list=dict(
        operation_id="company_actions_modules_list",
        summary="List the modules of a company action, in page order",
        responses={200: CompanyActionModuleSerializer(many=True), **problem_responses(401, 403, 404)},
    ),
    retrieve=dict(
        operation_id="company_actions_modules_retrieve",
        summary="Read one module of a company action",
        responses={200: CompanyActionModuleSerializer, **problem_responses(401, 403, 404)},
    ),
    create=dict(
        operation_id="company_actions_modules_attach",
        summary="Show a product, content or form on a company action's page",
        description="The kind must be one the action's system shows; the target must be one of the company's.",
        request=CompanyActionModuleAttachSerializer,
        responses={201: CompanyActionModuleSerializer, **problem_responses(400, 401, 403, 404, 415)},
    ),
    destroy=dict(
        operation_id="company_actions_modules_detach",
        summary="Stop showing a module",
        responses={204: None, **problem_responses(401, 403, 404)},
    ),
    reorder=dict(
        operation_id="company_actions_modules_reorder",
        summary="Reorder the modules of a company action",
        request=CompanyActionModuleReorderSerializer,
        responses={200: CompanyActionModuleSerializer(many=True), **problem_responses(400, 401, 403, 404, 415)},
    ),
)
class CompanyActionModuleViewSet(
    CompanyActionChildMixin,
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The products, content and forms a company action's page shows, in order."""

    serializer_class = CompanyActionModuleSerializer
    pagination_class = None
    filter_backends = []
    lookup_field = "uuid"
    lookup_value_regex = UUID_PATTERN
    destroy_service = services.action_company_module_detach
    instance_kwarg = "module"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionCompanySystemModule.objects.none()
        return (
            ActionCompanySystemModule.objects.filter(action_company=self.get_parent())
            .select_related("product", "content", "form")
            .order_by("position", "id")
        )

    def create(self, request, *args, **kwargs):
        self.get_parent()  # another company's parent is a 404 whatever the body
        body = CompanyActionModuleAttachSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        module = services.action_company_module_attach(
            action_company=self.get_parent(),
            kind=body.validated_data["kind"],
            target_uuid=body.validated_data["target"],
            position=body.validated_data.get("position"),
        )
        return Response(CompanyActionModuleSerializer(module).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def reorder(self, request, *args, **kwargs):
        self.get_parent()  # another company's parent is a 404 whatever the body
        body = CompanyActionModuleReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        modules = services.action_company_modules_reorder(
            action_company=self.get_parent(), modules=body.validated_data["modules"]
        )
        return Response(CompanyActionModuleSerializer(modules, many=True).data)


@nested_schema(
    tag=TAG_COMPANY_ACTIONS,
    parameters=[COMPANY_ACTION_UUID],
    list=dict(
        operation_id="company_actions_receivers_list",
        summary="List the receivers of a company action, newest first",
        responses={200: CompanyActionReceiverSerializer(many=True), **problem_responses(401, 403, 404)},
    ),
    retrieve=dict(
        operation_id="company_actions_receivers_retrieve",
        summary="Read one receiver of a company action",
        responses={200: CompanyActionReceiverSerializer, **problem_responses(401, 403, 404)},
    ),
    create=dict(
        operation_id="company_actions_receivers_rotate",
        summary="Rotate the receiver",
        description=(
            "Creates a new active receiver (optionally with a whsec_ secret, shown only in this answer); the "
            "previous one stops accepting calls. Mapping and default stage carry over unless given."
        ),
        request=CompanyActionReceiverRotateSerializer,
        responses={201: CompanyActionReceiverCreatedSerializer, **problem_responses(400, 401, 403, 404, 415)},
    ),
)
class CompanyActionReceiverViewSet(
    CompanyActionChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A company action's receivers: the active one and those it replaced."""

    serializer_class = CompanyActionReceiverSerializer
    pagination_class = None
    filter_backends = []
    lookup_field = "uuid"
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionCompanyReceiver.objects.none()
        return ActionCompanyReceiver.objects.filter(action_company=self.get_parent()).order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        self.get_parent()  # another company's parent is a 404 whatever the body
        body = CompanyActionReceiverRotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        secret = data.get("secret", "")
        if data["generate_secret"]:
            secret = services.action_company_receiver_secret_generate()
        receiver = services.action_company_receiver_rotate(
            action_company=self.get_parent(),
            secret=secret,
            mapping=data.get("mapping"),
            default_stage=data.get("default_stage"),
        )
        answer = CompanyActionReceiverCreatedSerializer(receiver, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)
