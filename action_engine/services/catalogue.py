"""The catalogue: a company's own actions, next to the global ones."""
from action_engine.errors import ActionEngineError
from action_engine.models import Action, ActionSystem
from action_engine.systems import SYSTEMS
from crm.models import Company
from salesassist.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied

ACTION_FIELDS = ("name", "slug", "description", "type", "system", "data_type", "config", "is_published")


def action_check_owner(*, action: Action, company: Company) -> None:
    """Only the company owning a catalogue action changes it (or what runs on it); global ones are staff's."""
    if action.company_id is None:
        raise PermissionDenied(
            "Global catalogue actions are managed by SalesAssist staff only.", code=ActionEngineError.GLOBAL_ACTION
        )
    if action.company_id != company.pk:
        raise NotFound("No such action.")


def action_system_check(*, action: Action, system: ActionSystem | None) -> None:
    """An action runs on an implemented system, and keeps it once company actions use the action."""
    if action.pk and system != action.system and action.company_actions.exists():
        raise InvalidInput(
            "The system of an action that company actions use cannot change.",
            errors={"system": ["Company actions use this action; its system is fixed."]},
        )
    if system is not None and system.slug not in SYSTEMS:
        raise InvalidInput("This action system is not implemented.", errors={"system": ["Not implemented."]})


def action_delete_check(*, action: Action) -> None:
    """An action that alive company actions use stays (Conflict)."""
    if action.company_actions.exists():
        raise Conflict("Company actions still use this action; delete them first.", code=ActionEngineError.IN_USE)


def _action_save(*, action: Action) -> Action:
    clash = Action.objects.filter(company_id=action.company_id, slug=action.slug).exclude(pk=action.pk)
    if clash.exists():
        raise InvalidInput("Another action of this company has this slug.", errors={"slug": ["Already in use."]})
    action.save()
    return action


def action_create(*, company: Company | None, **fields) -> Action:
    """A catalogue action: the company's own, or a global one (no company: SalesAssist staff, in admin)."""
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"action_create() got unexpected fields {sorted(unknown)}")
    fields.setdefault("config", {})
    action = Action(company=company, **fields)
    action_system_check(action=action, system=fields.get("system"))
    return _action_save(action=action)


def action_update(*, action: Action, company: Company | None, **fields) -> Action:
    """Change an action. An API caller (`company`) changes only its own, global ones are read-only
    (PermissionDenied); admin passes no company, its tenancy has decided who may."""
    if company is not None:
        action_check_owner(action=action, company=company)
    if "system" in fields:
        action_system_check(action=action, system=fields["system"])
    for name, value in fields.items():
        if name not in ACTION_FIELDS:
            raise TypeError(f"action_update() got an unexpected field {name!r}")
        setattr(action, name, value)
    return _action_save(action=action)


def action_soft_delete(*, action: Action, company: Company | None) -> Action:
    """Hide an action that no alive company action uses; `company` as for action_update."""
    if company is not None:
        action_check_owner(action=action, company=company)
    action_delete_check(action=action)
    action.delete()
    return action
