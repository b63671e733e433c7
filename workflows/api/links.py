"""The workflows linked to actions (api.action-engine): a catalogue action's defaults and a company
action's own, listed, attached, detached and reordered."""
from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from action_engine.api.catalogue import ACTION_UUID, TAG_CATALOGUE
from action_engine.api.company_actions import COMPANY_ACTION_UUID, TAG_COMPANY_ACTIONS, CompanyActionChildMixin
from action_engine.errors import ActionEngineError
from action_engine.models import Action
from action_engine.selectors import actions_visible_to
from crm.auth import request_company
from salesassist.core.api import UUID_PATTERN, nested_schema, uuid_path_parameter
from salesassist.core.errors import problem_responses
from salesassist.core.exceptions import PermissionDenied
from salesassist.core.viewsets import ServiceWritesMixin
from workflows import services
from workflows.models import ActionCompanyWorkflow, ActionWorkflow

from .serializers import WorkflowAttachSerializer, WorkflowLinkSerializer, WorkflowReorderSerializer

WORKFLOW_UUID = uuid_path_parameter("workflow_uuid", "The attached workflow's uuid.")


class WorkflowLinksMixin(ServiceWritesMixin):
    """list / attach / detach / reorder of the workflows linked to a parent (an action or a company action).

    Attaching answers with the link, not the attach body, so `create` is its own; detaching is the
    viewset's `destroy_service`.
    """

    instance_kwarg = "link"
    company_kwarg_on = ()
    serializer_class = WorkflowLinkSerializer
    pagination_class = None
    filter_backends = []
    lookup_field = "workflow__uuid"
    lookup_url_kwarg = "workflow_uuid"
    lookup_value_regex = UUID_PATTERN

    @property
    def company(self):
        return request_company(self.request)

    def attach(self, *, workflow, position):
        raise NotImplementedError

    def reorder_links(self, *, workflows):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        self.get_parent()  # another company's parent is a 404 whatever the body
        body = WorkflowAttachSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        link = self.attach(**body.validated_data)
        return Response(WorkflowLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    def reorder_response(self, request):
        self.get_parent()  # another company's parent is a 404 whatever the body
        body = WorkflowReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        links = self.reorder_links(workflows=body.validated_data["workflows"])
        return Response(WorkflowLinkSerializer(links, many=True).data)


def _workflow_link_schema(*, prefix: str, parent: str, parameter, parent_rule: str = ""):
    return nested_schema(
        tag=TAG_COMPANY_ACTIONS if "company" in parent else TAG_CATALOGUE,
        parameters=[parameter],
        list=dict(
            operation_id=f"{prefix}_list",
            summary=f"List the workflows of a {parent}",
            description=parent_rule,
            responses={200: WorkflowLinkSerializer(many=True), **problem_responses(401, 403, 404)},
        ),
        create=dict(
            operation_id=f"{prefix}_attach",
            summary=f"Attach a workflow to a {parent}",
            description=parent_rule,
            request=WorkflowAttachSerializer,
            responses={201: WorkflowLinkSerializer, **problem_responses(400, 401, 403, 404, 415)},
        ),
        destroy=dict(
            operation_id=f"{prefix}_detach",
            summary=f"Detach a workflow from a {parent}",
            parameters=[parameter, WORKFLOW_UUID],
            responses={204: None, **problem_responses(401, 403, 404)},
        ),
        reorder=dict(
            operation_id=f"{prefix}_reorder",
            summary=f"Reorder the workflows of a {parent}",
            request=WorkflowReorderSerializer,
            responses={200: WorkflowLinkSerializer(many=True), **problem_responses(400, 401, 403, 404, 415)},
        ),
    )


@_workflow_link_schema(
    prefix="actions_workflows",
    parent="catalogue action",
    parameter=ACTION_UUID,
    parent_rule="Default workflows of one of the company's own actions; a global action's are admin-only (403).",
)
class ActionWorkflowViewSet(
    WorkflowLinksMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The default workflows of one of the company's own catalogue actions."""

    destroy_service = services.action_workflow_detach
    company_kwarg_on = ("destroy",)  # the service checks the company owns the action

    def get_parent(self) -> Action:
        if not hasattr(self, "_parent"):
            visible = actions_visible_to(company=self.company)
            action_row = get_object_or_404(visible, uuid=self.kwargs["action_uuid"])
            if action_row.company_id is None:
                raise PermissionDenied(
                    "The default workflows of global actions are managed by SalesAssist staff only.",
                    code=ActionEngineError.GLOBAL_ACTION,
                )
            self._parent = action_row
        return self._parent

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionWorkflow.objects.none()
        links = ActionWorkflow.objects.filter(action=self.get_parent()).select_related("workflow")
        return links.order_by("position", "id")

    def attach(self, *, workflow, position=None):
        return services.action_workflow_attach(
            action=self.get_parent(), company=self.company, workflow=workflow, position=position
        )

    def reorder_links(self, *, workflows):
        return services.action_workflows_reorder(action=self.get_parent(), company=self.company, workflows=workflows)

    @action(detail=False, methods=["post"])
    def reorder(self, request, *args, **kwargs):
        return self.reorder_response(request)


@_workflow_link_schema(prefix="company_actions_workflows", parent="company action", parameter=COMPANY_ACTION_UUID)
class CompanyActionWorkflowViewSet(
    CompanyActionChildMixin,
    WorkflowLinksMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The company's own workflows run on a company action, besides the catalogue action's defaults."""

    destroy_service = services.action_company_workflow_detach

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionCompanyWorkflow.objects.none()
        return (
            ActionCompanyWorkflow.objects.filter(action_company=self.get_parent())
            .select_related("workflow")
            .order_by("position", "id")
        )

    def attach(self, *, workflow, position=None):
        return services.action_company_workflow_attach(
            action_company=self.get_parent(), workflow=workflow, position=position
        )

    def reorder_links(self, *, workflows):
        return services.action_company_workflows_reorder(action_company=self.get_parent(), workflows=workflows)

    @action(detail=False, methods=["post"])
    def reorder(self, request, *args, **kwargs):
        return self.reorder_response(request)
