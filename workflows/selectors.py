"""Read queries of the workflows domain."""
from .models import Workflow


def workflows_for_engagement(*, engagement) -> list[Workflow]:
    """Active workflows of the engagement's company action that fire on its stage, each once.

    The catalogue action's defaults come first, then the company's own, each in its set order.
    Stages are matched in Python: an action has a handful of workflows, and SQLite has no JSON
    containment lookup.
    """
    action_company = engagement.action_company
    active = Workflow.objects.filter(is_active=True, paused_at__isnull=True)
    defaults = active.filter(action_links__action_id=action_company.action_id, company__isnull=True).order_by(
        "action_links__position", "id"
    )
    defaults_of_company = active.filter(
        action_links__action_id=action_company.action_id, company_id=engagement.company_id
    ).order_by("action_links__position", "id")
    own = active.filter(
        company_action_links__action_company_id=action_company.pk, company_id=engagement.company_id
    ).order_by("company_action_links__position", "id")
    seen: set[int] = set()
    matching = []
    for workflow in [*defaults, *defaults_of_company, *own]:
        fires = not workflow.stages or engagement.stage in workflow.stages
        if fires and workflow.pk not in seen:
            seen.add(workflow.pk)
            matching.append(workflow)
    return matching
