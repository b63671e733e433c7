"""Which workflows run on which actions: a catalogue action's defaults and a company action's own."""
from django.db import transaction

from action_engine.models import Action, ActionCompany
from action_engine.services import action_check_owner
from crm.models import Company
from salesassist.core.exceptions import InvalidInput
from salesassist.core.positions import links_next_position, links_ordered, links_reorder

from ..models import ActionCompanyWorkflow, ActionWorkflow, Workflow


def workflow_link_problem(*, owner: Action | ActionCompany, workflow: Workflow) -> str:
    """Why `workflow` would never run on `owner` (a catalogue or a company action); empty when it would.

    A company action runs only its company's workflows; a company's own catalogue action runs global
    workflows and that company's; a global action may name any (each company's instance runs the global
    ones and its own).
    """
    if workflow.deleted_at is not None:
        return "This workflow was deleted."
    if isinstance(owner, ActionCompany):
        if workflow.company_id != owner.company_id:
            return "A company action runs only its own company's workflows."
    elif owner.company_id and workflow.company_id not in (None, owner.company_id):
        return "A company's own action runs only global workflows and that company's."
    return ""


def _workflow_check(*, owner: Action | ActionCompany, workflow: Workflow, company: Company) -> None:
    """An API caller links only its own company's workflows, and only where they would run."""
    if workflow.company_id != company.pk or workflow_link_problem(owner=owner, workflow=workflow):
        raise InvalidInput("No such workflow.", errors={"workflow": ["No such workflow of this company."]})


def _attach(*, links, workflow: Workflow, position: int | None, **parent):
    if links.filter(workflow=workflow).exists():
        raise InvalidInput("This workflow is already attached.", errors={"workflow": ["Already attached."]})
    return links.model.objects.create(
        workflow=workflow, position=links_next_position(links) if position is None else position, **parent
    )


@transaction.atomic
def action_workflow_attach(
    *, action: Action, company: Company, workflow: Workflow, position: int | None = None
) -> ActionWorkflow:
    """Make one of the company's workflows a default of one of its own catalogue actions."""
    action_check_owner(action=action, company=company)
    _workflow_check(owner=action, workflow=workflow, company=company)
    links = ActionWorkflow.objects.filter(action=action)
    return _attach(links=links, workflow=workflow, position=position, action=action)


@transaction.atomic
def action_workflow_detach(*, link: ActionWorkflow, company: Company) -> None:
    """Stop running a workflow by default for an action (deliveries already made stay)."""
    action_check_owner(action=link.action, company=company)
    link.delete()


@transaction.atomic
def action_workflows_reorder(*, action: Action, company: Company, workflows: list) -> list[ActionWorkflow]:
    """Put an action's default workflows in the given order (uuids of the workflows)."""
    action_check_owner(action=action, company=company)
    links = ActionWorkflow.objects.select_for_update().filter(action=action).select_related("workflow")
    links_reorder(links=list(links), key="workflow", order=workflows, field="workflows")
    return links_ordered(ActionWorkflow.objects.filter(action=action), key="workflow")


@transaction.atomic
def action_company_workflow_attach(
    *, action_company: ActionCompany, workflow: Workflow, position: int | None = None
) -> ActionCompanyWorkflow:
    """Run one of the company's workflows on this company action, besides the action's defaults."""
    _workflow_check(owner=action_company, workflow=workflow, company=action_company.company)
    links = ActionCompanyWorkflow.objects.filter(action_company=action_company)
    return _attach(links=links, workflow=workflow, position=position, action_company=action_company)


def action_company_workflow_detach(*, link: ActionCompanyWorkflow) -> None:
    """Stop running a workflow on this company action (deliveries already made stay)."""
    link.delete()


@transaction.atomic
def action_company_workflows_reorder(*, action_company: ActionCompany, workflows: list) -> list[ActionCompanyWorkflow]:
    """Put a company action's own workflows in the given order (uuids of the workflows)."""
    links = ActionCompanyWorkflow.objects.select_for_update().filter(action_company=action_company)
    links_reorder(links=list(links.select_related("workflow")), key="workflow", order=workflows, field="workflows")
    return links_ordered(ActionCompanyWorkflow.objects.filter(action_company=action_company), key="workflow")
