"""Companies' staff: memberships."""
from django.db import transaction

from ..choices import MembershipRole
from ..models import Company, CompanyMembership


@transaction.atomic
def company_membership_add(*, company: Company, user, role: str = MembershipRole.MEMBER) -> CompanyMembership:
    membership, _ = CompanyMembership.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return membership


def company_has_member(*, company_id: int, user_id: int | None) -> bool:
    """No user, or one who belongs to the company: whom the company's leads and receivers may name."""
    return user_id is None or CompanyMembership.objects.filter(company_id=company_id, user_id=user_id).exists()
