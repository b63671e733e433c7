"""Routes of workflows, their links to actions, and deliveries; served on api.action-engine/v1/ by that
host's URLconf beside the engine's own routes."""
from salesassist.core.api import UUID_PATTERN, OptionalSlashRouter

from . import links, views

app_name = "workflows"

router = OptionalSlashRouter()
router.register("workflows", views.WorkflowViewSet, basename="workflow")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
router.register(
    rf"actions/(?P<action_uuid>{UUID_PATTERN})/workflows", links.ActionWorkflowViewSet, basename="action-workflow"
)
router.register(
    rf"company-actions/(?P<company_action_uuid>{UUID_PATTERN})/workflows",
    links.CompanyActionWorkflowViewSet,
    basename="company-action-workflow",
)

urlpatterns = router.urls
