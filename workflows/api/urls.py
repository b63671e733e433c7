"""Workflow and delivery routes; action_engine.api.urls registers them on its router (api.action-engine)."""
from salesassist.core.api import OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register("workflows", views.WorkflowViewSet, basename="workflow")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
