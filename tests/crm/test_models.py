"""CRM constraints hold in the database itself, whatever code writes the rows."""
import pytest
from django.db import IntegrityError, transaction

from crm.models import Lead, Visitor
from tests.crm.factories import CompanyFactory, LeadFactory, VisitorFactory

pytestmark = pytest.mark.django_db


def test_company_slug_is_unique():
    CompanyFactory(slug="acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyFactory(slug="acme")


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("email", "A@X.com ", "a@x.com"),
        ("phone", "+1 (555) 010-0000", "+15550100000"),
    ],
)
def test_lead_email_and_phone_are_unique_per_company_once_normalized(company, other_company, field, first, second):
    LeadFactory(company=company, **{"email": "", field: first})
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(company=company, **{"email": "", field: second})
    # Another company may have the same person.
    LeadFactory(company=other_company, **{"email": "", field: second})


def test_a_local_and_an_international_phone_are_different_leads(company):
    LeadFactory(company=company, email="", phone="+15550100000")
    LeadFactory(company=company, email="", phone="15550100000")
    assert Lead.objects.filter(company=company).count() == 2


def test_leads_without_email_or_phone_do_not_clash(company):
    LeadFactory(company=company, email="", phone="")
    LeadFactory(company=company, email="", phone="")
    assert Lead.objects.filter(company=company, email_normalized="", phone_normalized="").count() == 2


def test_a_deleted_lead_frees_its_email(company):
    LeadFactory(company=company, email="ann@example.com").delete()
    lead = LeadFactory(company=company, email="Ann@Example.com")
    assert lead.email_normalized == "ann@example.com"


def test_a_visitor_cannot_be_inserted_with_another_companys_lead(company, other_company):
    foreign_lead = LeadFactory(company=other_company)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visitor.objects.create(company=company, lead=foreign_lead)
    assert not Visitor.objects.filter(company=company).exists()


def test_a_visitor_cannot_be_updated_to_another_companys_lead(company, other_company):
    visitor = VisitorFactory(company=company, lead=None)
    foreign_lead = LeadFactory(company=other_company)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visitor.objects.filter(pk=visitor.pk).update(lead=foreign_lead)
    visitor.refresh_from_db()
    assert visitor.lead is None
    # Moving the visitor to another company while keeping its lead is refused as well.
    own_lead = LeadFactory(company=company)
    Visitor.objects.filter(pk=visitor.pk).update(lead=own_lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visitor.objects.filter(pk=visitor.pk).update(company=other_company)


def test_a_visitor_with_its_own_companys_lead_or_none_is_fine(company):
    lead = LeadFactory(company=company)
    assert VisitorFactory(company=company, lead=lead).lead == lead
    assert VisitorFactory(company=company, lead=None).lead is None
