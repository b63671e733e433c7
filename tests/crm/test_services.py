"""CRM services: every lead write keeps the dedupe keys in step."""
import pytest

from crm.models import Lead
from crm.services import lead_update
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_updating_a_lead_keeps_the_normalized_copy_in_step(company):
    lead = LeadFactory(company=company, email="old@example.com")
    lead_update(lead=lead, email=" New@Example.com")
    assert Lead.objects.get(pk=lead.pk).email_normalized == "new@example.com"
