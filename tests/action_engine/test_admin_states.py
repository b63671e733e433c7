"""The pipeline state in admin: its own view-only changelist (by action, stage, stage reached) and the lead
admin's stage per company action (inline and filter)."""
import pytest
from django.urls import reverse

from action_engine.choices import SystemSlug
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    LeadActionStateFactory,
)
from tests.crm.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def states():
    company = CompanyFactory()
    forms = ActionCompanyFactory(company=company, name="Contact form")
    content = ActionCompanyFactory(
        company=company, name="Brochure", action=ActionFactory(system=ActionSystemFactory(slug=SystemSlug.CONTENT))
    )
    lead = {name: LeadFactory(company=company, first_name=name, last_name="") for name in ("Ada", "Bob", "Cyd")}
    return {
        "forms": forms,
        "content": content,
        "ada": LeadActionStateFactory(action_company=forms, lead=lead["Ada"], stage="submitted"),
        "bob": LeadActionStateFactory(action_company=forms, lead=lead["Bob"], stage="opened"),
        "cyd": LeadActionStateFactory(action_company=content, lead=lead["Cyd"], stage="downloaded"),
        "ada_content": LeadActionStateFactory(action_company=content, lead=lead["Ada"], stage="sent"),
    }


def changelist(admin_client, model: str, **query):
    response = admin_client.get(reverse(f"admin:{model}_changelist"), query)
    assert response.status_code == 200
    return response.context["cl"].queryset


def test_states_by_action_stage_and_stage_reached(admin_client, states):
    states_of = lambda **query: set(changelist(admin_client, "action_engine_leadactionstate", **query))  # noqa: E731
    assert states_of(action_company__id__exact=states["forms"].pk) == {states["ada"], states["bob"]}
    assert states_of(stage="opened") == {states["bob"]}
    # Reached follows each action's own pipeline: submitted and downloaded are both past opened.
    assert states_of(reached="opened") == {states["ada"], states["bob"], states["cyd"]}
    assert states_of(reached="submitted") == {states["ada"]}
    assert states_of(reached="opened", action_company__id__exact=states["content"].pk) == {states["cyd"]}


def test_states_are_view_only(admin_client, states):
    page = admin_client.get(reverse("admin:action_engine_leadactionstate_change", args=[states["ada"].pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:action_engine_leadactionstate_add")).status_code == 403


def test_leads_by_stage_on_an_action(admin_client, states):
    leads_of = lambda **query: {lead.first_name for lead in changelist(admin_client, "crm_lead", **query)}  # noqa: E731
    assert leads_of(action_company=states["forms"].pk) == {"Ada", "Bob"}
    assert leads_of(action_company=states["forms"].pk, action_stage="opened") == {"Bob"}
    assert leads_of(action_company=states["content"].pk, action_stage="sent") == {"Ada"}
    assert leads_of(action_stage="downloaded") == {"Cyd"}


def test_the_lead_page_shows_its_stage_per_action(admin_client, states):
    page = admin_client.get(reverse("admin:crm_lead_change", args=[states["ada"].lead_id]))
    html = page.content.decode()
    assert "stage per company action" in html.lower()
    assert "Contact form" in html and "Brochure" in html
