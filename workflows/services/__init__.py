"""Write operations of the workflows domain, one concern a module; import them from here."""
from .attempts import deliveries_attempt, task_batch_size
from .fanout import deliveries_enqueue, deliveries_retry_soon, deliveries_sweep, engagement_fanout
from .links import (
    LINK_FIELDS,
    action_company_workflow_attach,
    action_company_workflow_detach,
    action_company_workflow_update,
    action_company_workflows_reorder,
    action_workflow_attach,
    action_workflow_detach,
    action_workflow_update,
    action_workflows_reorder,
    workflow_link_problem,
)
from .notifications import workflow_paused_notify, workflows_pause_failing
from .retry import next_state, retry_delay
from .workflows import (
    WORKFLOW_FIELDS,
    delivery_replay,
    stages_validate,
    workflow_check,
    workflow_create,
    workflow_delete,
    workflow_recover,
    workflow_resume,
    workflow_rotate_secret,
    workflow_test,
    workflow_update,
)

__all__ = [
    "LINK_FIELDS",
    "action_company_workflow_attach",
    "action_company_workflow_detach",
    "action_company_workflow_update",
    "action_company_workflows_reorder",
    "action_workflow_attach",
    "action_workflow_detach",
    "action_workflow_update",
    "action_workflows_reorder",
    "workflow_link_problem",
    "WORKFLOW_FIELDS",
    "deliveries_attempt",
    "deliveries_enqueue",
    "deliveries_retry_soon",
    "deliveries_sweep",
    "delivery_replay",
    "engagement_fanout",
    "next_state",
    "retry_delay",
    "stages_validate",
    "task_batch_size",
    "workflow_check",
    "workflow_create",
    "workflow_delete",
    "workflow_paused_notify",
    "workflow_recover",
    "workflow_resume",
    "workflow_rotate_secret",
    "workflow_test",
    "workflow_update",
    "workflows_pause_failing",
]
