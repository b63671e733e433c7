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


LINK_FIELDS = ("workflow", "position")


def _workflow_check(*, owner: Action | ActionCompany, workflow: Workflow, company: Company | None) -> None:
    """The workflow would run on `owner`. An API caller (`company`) links only its own company's workflows;
    staff (None) link any their admin shows them."""
    problem = workflow_link_problem(owner=owner, workflow=workflow)
    if company is not None and (workflow.company_id != company.pk or problem):
        raise InvalidInput("No such workflow.", errors={"workflow": ["No such workflow of this company."]})
    if problem:
        raise InvalidInput(problem, errors={"workflow": [problem]})


def _check_not_attached(*, links, workflow: Workflow) -> None:
    if links.filter(workflow=workflow).exists():
        raise InvalidInput("This workflow is already attached.", errors={"workflow": ["Already attached."]})


def _attach(*, links, workflow: Workflow, position: int | None, **parent):
    _check_not_attached(links=links, workflow=workflow)
    return links.model.objects.create(
        workflow=workflow, position=links_next_position(links) if position is None else position, **parent
    )


def _update(*, link, owner_field: str, fields: dict):
    """Staff's change of a link row (its owner, workflow or place), kept to the rules of attaching it."""
    for name, value in fields.items():
        if name not in (owner_field, *LINK_FIELDS):
            raise TypeError(f"a workflow link update got an unexpected field {name!r}")
        setattr(link, name, value)
    owner = getattr(link, owner_field)
    _workflow_check(owner=owner, workflow=link.workflow, company=None)
    others = type(link).objects.filter(**{owner_field: owner}).exclude(pk=link.pk)
    _check_not_attached(links=others, workflow=link.workflow)
    link.save()
    return link


@transaction.atomic
def action_workflow_attach(
    *, action: Action, workflow: Workflow, company: Company | None = None, position: int | None = None
) -> ActionWorkflow:
    """Make a workflow a default of a catalogue action: an API caller's of one of its own actions, staff's
    (no company) of any."""
    if company is not None:
        action_check_owner(action=action, company=company)
    _workflow_check(owner=action, workflow=workflow, company=company)
    links = ActionWorkflow.objects.filter(action=action)
    return _attach(links=links, workflow=workflow, position=position, action=action)


@transaction.atomic
def action_workflow_update(*, link: ActionWorkflow, **fields) -> ActionWorkflow:
    """Change a catalogue action's default workflow, the action or its place (staff, in admin)."""
    return _update(link=link, owner_field="action", fields=fields)


@transaction.atomic
def action_workflow_detach(*, link: ActionWorkflow, company: Company | None = None) -> None:
    """Stop running a workflow by default for an action (deliveries already made stay); an API caller only
    for its own action."""
    if company is not None:
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


@transaction.atomic
def action_company_workflow_update(*, link: ActionCompanyWorkflow, **fields) -> ActionCompanyWorkflow:
    """Change a company action's own workflow, the company action or its place (staff, in admin)."""
    return _update(link=link, owner_field="action_company", fields=fields)


def action_company_workflow_detach(*, link: ActionCompanyWorkflow) -> None:
    """Stop running a workflow on this company action (deliveries already made stay)."""
    link.delete()


@transaction.atomic
def action_company_workflows_reorder(*, action_company: ActionCompany, workflows: list) -> list[ActionCompanyWorkflow]:
    """Put a company action's own workflows in the given order (uuids of the workflows)."""
    links = ActionCompanyWorkflow.objects.select_for_update().filter(action_company=action_company)
    links_reorder(links=list(links.select_related("workflow")), key="workflow", order=workflows, field="workflows")
    return links_ordered(ActionCompanyWorkflow.objects.filter(action_company=action_company), key="workflow")
