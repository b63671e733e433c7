"""Companies (tenants) and their staff: memberships."""
from django.db import transaction

from salesassist.core.exceptions import PermissionDenied

from ..choices import MembershipRole
from ..models import Company, CompanyMembership
from .retention import retention_settings_check

COMPANY_FIELDS = ("name", "slug", "settings", "is_active")
MEMBERSHIP_FIELDS = ("user", "role")


def company_may_set_active(*, user) -> bool:
    """Deactivating a tenant closes it to its own staff too: only platform staff (superusers) decide that."""
    return user.is_superuser


def company_create(*, name: str, slug: str, **fields) -> Company:
    """A new tenant (platform staff make them)."""
    company = Company(name=name, slug=slug)
    return _company_save(company=company, fields=fields, name="company_create")


def company_update(*, company: Company, user, **fields) -> Company:
    """Change a tenant; whether it is active only platform staff change (`user` is who asks)."""
    if "is_active" in fields and fields["is_active"] != company.is_active and not company_may_set_active(user=user):
        raise PermissionDenied("Only platform staff activate or deactivate a company.")
    return _company_save(company=company, fields=fields, name="company_update")


def company_check(**fields) -> None:
    """InvalidInput for values a company may not have: its settings' retention keys are checked."""
    if "settings" in fields:
        retention_settings_check(company_settings=fields["settings"])


def _company_save(*, company: Company, fields: dict, name: str) -> Company:
    company_check(**fields)
    for field, value in fields.items():
        if field not in COMPANY_FIELDS:
            raise TypeError(f"{name}() got an unexpected field {field!r}")
        setattr(company, field, value)
    company.save()
    return company


@transaction.atomic
def company_membership_add(*, company: Company, user, role: str = MembershipRole.MEMBER) -> CompanyMembership:
    membership, _ = CompanyMembership.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return membership


def company_membership_update(*, membership: CompanyMembership, **fields) -> CompanyMembership:
    """Change who a membership is of, or their role in the company."""
    for field, value in fields.items():
        if field not in MEMBERSHIP_FIELDS:
            raise TypeError(f"company_membership_update() got an unexpected field {field!r}")
        setattr(membership, field, value)
    membership.save()
    return membership


def company_membership_remove(*, membership: CompanyMembership) -> None:
    """The user no longer belongs to the company (what they did there stays)."""
    membership.delete()


def company_has_member(*, company_id: int, user_id: int | None) -> bool:
    """No user, or one who belongs to the company: whom the company's leads and receivers may name."""
    return user_id is None or CompanyMembership.objects.filter(company_id=company_id, user_id=user_id).exists()
