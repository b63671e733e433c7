"""Company actions: a company's instances of catalogue actions, and the modules their pages show."""
from django.db import transaction

from action_engine.choices import ModuleKind
from action_engine.errors import ActionEngineError
from action_engine.models import Action, ActionCompany, ActionCompanyReceiver, ActionCompanySystemModule, Form
from action_engine.prefill import prefill_config_errors
from action_engine.selectors import action_company_names_showing
from action_engine.systems import system_spec
from crm.models import Company
from products.models import Content, Product
from salesassist.core.exceptions import Conflict, InvalidInput
from salesassist.core.positions import links_next_position, links_reorder

from .receivers import action_company_receiver_create

ACTION_COMPANY_FIELDS = ("name", "description", "config", "is_active", "is_published", "page_url")
MODULE_FIELDS = ("action_company", "kind", "position", "product", "content", "form")


def action_company_action_check(*, company: Company, action: Action) -> None:
    """A company's instance is of a global action or of one of the company's own."""
    if action.company_id not in (None, company.pk):
        raise InvalidInput(
            "This action belongs to another company's catalogue.",
            errors={"action": ["This action belongs to another company's catalogue."]},
        )


def action_company_config_check(*, config) -> None:
    """A company action's config names only lead fields a page may prefill (action_engine/prefill.py)."""
    errors = prefill_config_errors(config)
    if errors:
        raise InvalidInput("This config cannot be used.", errors={"config.prefill": errors})


@transaction.atomic
def action_company_create(*, company: Company, action: Action, name: str = "", **fields) -> ActionCompany:
    """A company's instance of an action, created with its receiver in the same transaction."""
    action_company_action_check(company=company, action=action)
    action_company_config_check(config=fields.get("config"))
    action_company = ActionCompany.objects.create(company=company, action=action, name=name or action.name, **fields)
    action_company_receiver_create(action_company=action_company)
    return action_company


def action_company_update(*, action_company: ActionCompany, **fields) -> ActionCompany:
    """Change a company action's own fields; its catalogue action is fixed once created."""
    for name, value in fields.items():
        if name not in ACTION_COMPANY_FIELDS:
            raise TypeError(f"action_company_update() got an unexpected field {name!r}")
        setattr(action_company, name, value)
    if not action_company.name:
        raise InvalidInput("A company action needs a name.", errors={"name": ["This field may not be blank."]})
    action_company_config_check(config=action_company.config)
    action_company.save()
    return action_company


@transaction.atomic
def action_company_soft_delete(*, action_company: ActionCompany) -> ActionCompany:
    """Hide a company action; its receivers stop accepting calls, its engagements stay as history."""
    ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).update(is_active=False)
    action_company.delete()
    return action_company


def _module_target(*, company: Company, kind: str, target_uuid):
    """The company's alive product, content or form with this uuid; InvalidInput on `target` otherwise."""
    model = {ModuleKind.PRODUCT: Product, ModuleKind.CONTENT: Content, ModuleKind.FORM: Form}[ModuleKind(kind)]
    target = model.objects.filter(company=company, uuid=target_uuid).first()
    if target is None:
        raise InvalidInput(
            f"No such {ModuleKind(kind).label.lower()} of this company.",
            errors={"target": [f"No {ModuleKind(kind).label.lower()} of this company has this uuid."]},
        )
    return target


def action_company_module_check(*, action_company: ActionCompany, kind: str, target=None) -> None:
    """A company action's page shows only the kinds of module its system shows, and only its company's
    products, content and forms (`target`, when it is known)."""
    spec = system_spec(action_company.action.system.slug)
    if kind not in spec.module_kinds:
        allowed = ", ".join(sorted(spec.module_kinds))
        raise InvalidInput(
            f"A {spec.slug} action cannot show a {kind}.",
            code=ActionEngineError.MODULE_KIND_NOT_ALLOWED,
            errors={"kind": [f"This action's system shows only: {allowed}."]},
        )
    if target is not None and target.company_id != action_company.company_id:
        raise InvalidInput("This belongs to another company.", errors={"target": ["This belongs to another company."]})


@transaction.atomic
def action_company_module_attach(
    *, action_company: ActionCompany, kind: str, target_uuid, position: int | None = None
) -> ActionCompanySystemModule:
    """Show a product, content or form on a company action's page; the action's system must show that kind."""
    action_company_module_check(action_company=action_company, kind=kind)
    # Looked up among the company's own rows: another company's uuid is one that does not exist.
    target = _module_target(company=action_company.company, kind=kind, target_uuid=target_uuid)
    modules = ActionCompanySystemModule.objects.filter(action_company=action_company)
    _module_check_not_attached(modules=modules, kind=kind, target=target)
    return ActionCompanySystemModule.objects.create(
        action_company=action_company,
        kind=kind,
        position=links_next_position(modules) if position is None else position,
        **{kind: target},
    )


def _module_check_not_attached(*, modules, kind: str, target) -> None:
    if modules.filter(**{kind: target}).exists():
        raise InvalidInput("This module is already attached.", errors={"target": ["Already attached."]})


@transaction.atomic
def action_company_module_update(*, module: ActionCompanySystemModule, **fields) -> ActionCompanySystemModule:
    """Change what a module shows, where or in which place: the rules of attaching it hold for the result."""
    for name, value in fields.items():
        if name not in MODULE_FIELDS:
            raise TypeError(f"action_company_module_update() got an unexpected field {name!r}")
        setattr(module, name, value)
    target = module.target
    action_company_module_check(action_company=module.action_company, kind=module.kind, target=target)
    if target is None:
        raise InvalidInput("A module shows what its kind names.", errors={"target": ["This field is required."]})
    others = ActionCompanySystemModule.objects.filter(action_company=module.action_company).exclude(pk=module.pk)
    _module_check_not_attached(modules=others, kind=module.kind, target=target)
    module.save()
    return module


def module_target_delete_check(*, product=None, content=None) -> None:
    """A product or content that a company action's page shows cannot be deleted (products' deleting events)."""
    target = product if product is not None else content
    names = action_company_names_showing(target=target)
    if names:
        noun = "product" if product is not None else "content"
        raise Conflict(
            f"The {noun} is shown by company actions: {', '.join(names)}. Detach it first.",
            code=ActionEngineError.IN_USE,
        )


def action_company_module_detach(*, module: ActionCompanySystemModule) -> None:
    """Stop showing a module on the page."""
    module.delete()


@transaction.atomic
def action_company_modules_reorder(*, action_company: ActionCompany, modules: list) -> list[ActionCompanySystemModule]:
    """Put a company action's modules in the given order (uuids of the modules)."""
    links = ActionCompanySystemModule.objects.select_for_update().filter(action_company=action_company)
    links_reorder(links=list(links), key="", order=modules, field="modules")
    return list(
        ActionCompanySystemModule.objects.filter(action_company=action_company)
        .select_related("product", "content", "form")
        .order_by("position", "id")
    )

