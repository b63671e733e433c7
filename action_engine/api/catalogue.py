"""The catalogue (api.action-engine): action types, systems and data types to read, and actions, global
(read-only) or a company's own."""
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter, SearchFilter

from action_engine import services
from action_engine.errors import ActionEngineError
from action_engine.models import Action, ActionDataType, ActionSystem, ActionType
from action_engine.selectors import actions_visible_to
from crm.api.tenancy import CompanyServiceModelViewSet
from salesassist.core.api import UUID_PATTERN, crud_schema, uuid_path_parameter
from salesassist.core.exceptions import PermissionDenied

from .filters import ActionFilterSet
from .serializers import ActionDataTypeSerializer, ActionSerializer, ActionSystemSerializer, ActionTypeSerializer

TAG_CATALOGUE = "catalogue"
ACTION_UUID = uuid_path_parameter("action_uuid", "The catalogue action's uuid.")


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
class ActionViewSet(CompanyServiceModelViewSet):
    """The catalogue: global actions (read-only) and the company's own (writable)."""

    queryset = Action.objects.all()
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]
    create_service = services.action_create
    update_service = services.action_update
    destroy_service = services.action_soft_delete
    instance_kwarg = "action"
    company_kwarg_on = ("create", "update", "destroy")

    def get_queryset(self):
        return actions_visible_to(company=self.company)

    def get_serializer(self, *args, **kwargs):
        # Refuse writes to a global action before validating the body: the answer does not depend on it.
        instance = args[0] if args else kwargs.get("instance")
        if isinstance(instance, Action) and instance.company_id is None and self.request.method not in ("GET", "HEAD"):
            raise PermissionDenied(
                "Global catalogue actions are managed by SalesAssist staff only.", code=ActionEngineError.GLOBAL_ACTION
            )
        return super().get_serializer(*args, **kwargs)
