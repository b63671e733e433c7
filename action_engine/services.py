"""Write operations of the action engine domain."""
from django.db import transaction

from crm.models import Company

from .models import Action, ActionCompany, ActionCompanyReceiver


@transaction.atomic
def action_company_create(*, company: Company, action: Action, name: str = "", **fields) -> ActionCompany:
    """A company's instance of an action, created with its receiver in the same transaction."""
    action_company = ActionCompany.objects.create(company=company, action=action, name=name or action.name, **fields)
    action_company_receiver_create(action_company=action_company)
    return action_company


@transaction.atomic
def action_company_receiver_create(*, action_company: ActionCompany, **fields) -> ActionCompanyReceiver:
    """A new active receiver for a company action; the one active before it stops accepting calls."""
    ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).update(
        is_active=False
    )
    return ActionCompanyReceiver.objects.create(
        company_id=action_company.company_id, action_company=action_company, **fields
    )
