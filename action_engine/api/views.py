"""Views of the action engine API (api.action-engine): the catalogue, company actions with their
receivers and modules, forms and engagements. Workflows, their links to actions and deliveries: workflows.api."""
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from action_engine import services
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Form,
)
from action_engine.selectors import actions_visible_to, engagement_list
from crm.api.tenancy import CompanyModelViewSet, CompanyReadOnlyViewSet, CompanyScopedMixin, NestedParentMixin
from salesassist.core.api import UUID_PATTERN, crud_schema, nested_schema, uuid_path_parameter
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import PermissionDenied
from salesassist.core.pagination import CursorPagination

from .filters import ActionFilterSet, CompanyActionFilterSet, EngagementFilterSet, FormFilterSet
from .serializers import (
    ActionDataTypeSerializer,
    ActionSerializer,
    ActionSystemSerializer,
    ActionTypeSerializer,
    CompanyActionModuleAttachSerializer,
    CompanyActionModuleReorderSerializer,
    CompanyActionModuleSerializer,
    CompanyActionReceiverCreatedSerializer,
    CompanyActionReceiverRotateSerializer,
    CompanyActionReceiverSerializer,
    CompanyActionSerializer,
    EngagementSerializer,
    FormSerializer,
)

TAG_CATALOGUE = "catalogue"
TAG_COMPANY_ACTIONS = "company actions"
ACTION_UUID = uuid_path_parameter("action_uuid", "The catalogue action's uuid.")
COMPANY_ACTION_UUID = uuid_path_parameter("company_action_uuid", "The company action's uuid.")


class CatalogueReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A small reference table every company reads, looked up by uuid."""

    lookup_field = "uuid"
    lookup_value_regex = UUID_PATTERN
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["slug", "name"]
    ordering_fields = ["name", "slug"]
    ordering = ["name"]


@crud_schema(
    operation_prefix="action_types", noun="action type", serializer=ActionTypeSerializer, tag=TAG_CATALOGUE,
    actions=("list", "retrieve"),
)
class ActionTypeViewSet(CatalogueReadOnlyViewSet):
    """Action types (product, document, form, commerce…)."""

    queryset = ActionType.objects.all()
    serializer_class = ActionTypeSerializer


@crud_schema(
    operation_prefix="action_systems", noun="action system", serializer=ActionSystemSerializer, tag=TAG_CATALOGUE,
    actions=("list", "retrieve"),
)
class ActionSystemViewSet(CatalogueReadOnlyViewSet):
    """Action systems with their stage pipelines and the module kinds their pages show."""

    queryset = ActionSystem.objects.all()
    serializer_class = ActionSystemSerializer


@crud_schema(
    operation_prefix="action_data_types", noun="action data type", serializer=ActionDataTypeSerializer,
    tag=TAG_CATALOGUE, actions=("list", "retrieve"),
)
class ActionDataTypeViewSet(CatalogueReadOnlyViewSet):
    """The data actions work on (product, content)."""

    queryset = ActionDataType.objects.all()
    serializer_class = ActionDataTypeSerializer


@crud_schema(
    operation_prefix="actions",
    noun="catalogue action",
    serializer=ActionSerializer,
    tag=TAG_CATALOGUE,
    destroy_description="Soft delete of one of the company's own actions; global ones answer 403.",
)
class ActionViewSet(CompanyScopedMixin, viewsets.ModelViewSet):
    """The catalogue: global actions (read-only) and the company's own (writable)."""

    queryset = Action.objects.all()
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return actions_visible_to(company=self.company)

    def perform_create(self, serializer):
        serializer.instance = services.action_create(company=self.company, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.action_update(
            action=serializer.instance, company=self.company, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.action_soft_delete(action=instance, company=self.company)

    def get_serializer(self, *args, **kwargs):
        # Refuse writes to a global action before validating the body: the answer does not depend on it.
        instance = args[0] if args else kwargs.get("instance")
        if isinstance(instance, Action) and instance.company_id is None and self.request.method not in ("GET", "HEAD"):
            raise PermissionDenied(
                "Global catalogue actions are managed by SalesAssist staff only.", code="global_action"
            )
        return super().get_serializer(*args, **kwargs)


@crud_schema(
    operation_prefix="company_actions",
    noun="company action",
    serializer=CompanyActionSerializer,
    tag=TAG_COMPANY_ACTIONS,
    destroy_description="Soft delete: its receivers stop accepting calls; its engagements stay.",
)
class CompanyActionViewSet(CompanyModelViewSet):
    """A company's instances of catalogue actions; creating one creates its receiver."""

    queryset = ActionCompany.objects.select_related("action__system").prefetch_related("receivers")
    serializer_class = CompanyActionSerializer
    filterset_class = CompanyActionFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.action_company_create(company=self.company, **serializer.validated_data)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        fields.pop("action", None)  # validated as unchanged
        serializer.instance = services.action_company_update(action_company=serializer.instance, **fields)

    def perform_destroy(self, instance):
        services.action_company_soft_delete(action_company=instance)


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

    def perform_destroy(self, instance):
        services.action_company_module_detach(module=instance)

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


@crud_schema(
    operation_prefix="forms",
    noun="form",
    serializer=FormSerializer,
    tag="forms",
    destroy_description="Soft delete. A form that a company action still shows answers 409.",
)
class FormViewSet(CompanyModelViewSet):
    """A company's forms; the schema is validated as JSON Schema (draft 2020-12, type object) on write."""

    queryset = Form.objects.all()
    serializer_class = FormSerializer
    filterset_class = FormFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.form_create(company=self.company, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.form_update(form=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.form_soft_delete(form=instance)


@crud_schema(
    operation_prefix="engagements",
    noun="engagement",
    serializer=EngagementSerializer,
    tag="engagements",
    actions=("list", "retrieve"),
)
class EngagementViewSet(CompanyReadOnlyViewSet):
    """The company's engagements, newest first, cursor paged (written by the public flow only)."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = CursorPagination

    def get_queryset(self):
        return engagement_list(company=self.company)
