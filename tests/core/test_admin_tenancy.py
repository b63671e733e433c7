"""Admin tenancy: company staff see and touch only their own companies' rows; superusers see all."""
import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_hosts.resolvers import reverse_host

from action_engine.choices import ModuleKind
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Engagement,
    Form,
    LeadActionState,
    Message,
    ReceiverCall,
)
from crm.admin_tenancy import TenantScopedAdminMixin
from crm.choices import ApiKeyAccess
from crm.models import (
    ApiKey,
    Company,
    CompanyMembership,
    Lead,
    LeadErasure,
    LeadReceiver,
    LeadReceiverAttempt,
    Visitor,
)
from products.models import Content, Product, Variant
from salesassist.core.admin import SuperuserOnlyMixin
from salesassist.hosts import DEFAULT
from tests.action_engine import factories as ae
from tests.core.test_admin import REGISTERED, ROW_MAKERS
from tests.crm import factories as crm
from tests.products import factories as products
from tests.workflows import factories as wf
from workflows.models import ActionCompanyWorkflow, ActionWorkflow, Delivery, DeliveryAttempt, Workflow

pytestmark = pytest.mark.django_db

CATALOGUE = (ActionType, ActionSystem, ActionDataType)

# One row of each tenant-owned model for a given company.
COMPANY_ROW_MAKERS = {
    Company: lambda company: company,
    CompanyMembership: lambda company: crm.CompanyMembershipFactory(company=company),
    ApiKey: lambda company: crm.ApiKeyFactory(company=company),
    Lead: lambda company: crm.LeadFactory(company=company),
    Visitor: lambda company: crm.VisitorFactory(company=company),
    LeadReceiver: lambda company: crm.LeadReceiverFactory(company=company),
    LeadReceiverAttempt: lambda company: crm.LeadReceiverAttemptFactory(
        receiver=crm.LeadReceiverFactory(company=company), lead=crm.LeadFactory(company=company)
    ),
    Product: lambda company: products.ProductFactory(company=company),
    Variant: lambda company: products.VariantFactory(product__company=company),
    Content: lambda company: products.ContentFactory(company=company),
    Action: lambda company: ae.ActionFactory(company=company),
    ActionWorkflow: lambda company: wf.ActionWorkflowFactory(
        action=ae.ActionFactory(company=company), workflow=wf.WorkflowFactory(company=company)
    ),
    ActionCompany: lambda company: ae.ActionCompanyFactory(company=company),
    ActionCompanyReceiver: lambda company: ae.ActionCompanyFactory(company=company).receivers.get(),
    ActionCompanyWorkflow: lambda company: wf.ActionCompanyWorkflowFactory(action_company__company=company),
    ActionCompanySystemModule: lambda company: ae.ModuleFactory(
        kind=ModuleKind.PRODUCT, action_company__company=company
    ),
    ReceiverCall: lambda company: ae.ReceiverCallFactory(
        company=company, engagement=ae.EngagementFactory(action_company__company=company)
    ),
    Form: lambda company: ae.FormFactory(company=company),
    Engagement: lambda company: ae.EngagementFactory(action_company__company=company),
    LeadActionState: lambda company: ae.LeadActionStateFactory(action_company__company=company),
    LeadErasure: lambda company: crm.LeadErasureFactory(lead__company=company),
    Message: lambda company: ae.EngagementFactory(action_company__company=company).message,
    Workflow: lambda company: wf.WorkflowFactory(company=company),
    Delivery: lambda company: wf.DeliveryFactory(engagement__action_company__company=company),
    DeliveryAttempt: lambda company: wf.DeliveryAttemptFactory(delivery__engagement__action_company__company=company),
}


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _signed_in(user) -> Client:
    client = Client(HTTP_HOST=reverse_host(DEFAULT))
    client.force_login(user)
    return client


@pytest.fixture
def acme_staff(company):
    """Staff of Acme holding every permission there is, superuser only in name not."""
    user = crm.UserFactory(username="acme-staff", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    crm.CompanyMembershipFactory(company=company, user=user)
    return user


@pytest.fixture
def acme_client(acme_staff):
    return _signed_in(acme_staff)


def _listed(client, model, **query) -> set:
    response = client.get(_url(model, "changelist"), query)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


# ---------------------------------------------------------------- every registered admin


def test_every_registered_admin_is_tenant_scoped_or_for_superusers_only():
    loose = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, (TenantScopedAdminMixin, SuperuserOnlyMixin))
    ]
    assert loose == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_company_staff_never_see_another_companys_rows(acme_client, company, other_company, superuser, model):
    model_admin = admin.site._registry[model]
    if isinstance(model_admin, SuperuserOnlyMixin):
        if model._meta.label != "auth.User":
            ROW_MAKERS[model]()
        assert acme_client.get(_url(model, "changelist")).status_code == 403
        return
    if model in CATALOGUE:
        row = ROW_MAKERS[model]()
        assert row.pk in _listed(acme_client, model)
        return
    ours, theirs = COMPANY_ROW_MAKERS[model](company), COMPANY_ROW_MAKERS[model](other_company)
    response = acme_client.get(_url(model, "changelist"))
    listed = {row.pk for row in response.context["cl"].result_list}
    assert ours.pk in listed
    assert theirs.pk not in listed
    assert "Globex" not in response.content.decode()  # nor in a filter, a column or a link
    # Another company's row is "not found", as Django answers for rows outside get_queryset.
    assert acme_client.get(_url(model, "change", theirs.pk)).status_code == 302
    assert acme_client.get(_url(model, "change", ours.pk)).status_code == 200
    # A superuser sees both.
    assert {ours.pk, theirs.pk} <= _listed(_signed_in(superuser), model)


# ---------------------------------------------------------------- leads


def test_company_staff_cannot_list_open_or_change_another_companys_lead(acme_client, company, other_company):
    ours, theirs = crm.LeadFactory(company=company), crm.LeadFactory(company=other_company, first_name="Gina")
    assert _listed(acme_client, Lead) == {ours.pk}
    assert acme_client.get(_url(Lead, "change", theirs.pk)).status_code == 302
    assert acme_client.get(_url(Lead, "history", theirs.pk)).status_code == 302
    response = acme_client.post(
        _url(Lead, "change", theirs.pk), {"company": other_company.pk, "first_name": "Taken", "status": "new"}
    )
    assert response.status_code == 302
    assert acme_client.post(_url(Lead, "delete", theirs.pk), {"post": "yes"}).status_code == 302
    theirs.refresh_from_db()
    assert theirs.first_name == "Gina" and not theirs.is_deleted


def test_a_superuser_sees_every_companys_leads(admin_client, company, other_company):
    leads = {crm.LeadFactory(company=company).pk, crm.LeadFactory(company=other_company).pk}
    assert _listed(admin_client, Lead) == leads


def _lead_form(company, **fields):
    inlines = ("engagements", "action_states", "visitors")
    management = {f"{prefix}-{name}": 0 for prefix in inlines for name in ("TOTAL_FORMS", "INITIAL_FORMS")}
    return {"company": company.pk, "first_name": "Ann", "status": "new", "custom_fields": "{}", **management, **fields}


def test_company_staff_cannot_add_a_lead_to_another_company(acme_client, company, other_company):
    response = acme_client.post(_url(Lead, "add"), _lead_form(other_company))
    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
    assert not Lead.objects.exists()
    assert acme_client.post(_url(Lead, "add"), _lead_form(company)).status_code == 302
    assert Lead.objects.get().company == company


def test_company_choices_are_the_users_companies(acme_client, company, other_company):
    form = acme_client.get(_url(Lead, "add")).context["adminform"].form
    assert list(form.fields["company"].queryset) == [company]


def test_a_lead_owner_must_be_a_member_of_the_users_companies(acme_client, acme_staff, company, other_company):
    outsider = crm.CompanyMembershipFactory(company=other_company).user
    form = acme_client.get(_url(Lead, "add")).context["adminform"].form
    assert list(form.fields["owner"].queryset) == [acme_staff]
    response = acme_client.post(_url(Lead, "add"), _lead_form(company, owner=outsider.pk))
    assert "owner" in response.context["adminform"].form.errors
    assert not Lead.objects.exists()


# ---------------------------------------------------------------- API keys, workflows, related rows


def test_company_staff_may_edit_their_company_but_not_deactivate_it(acme_client, admin_client, company):
    form = acme_client.get(_url(Company, "change", company.pk)).context["adminform"].form
    assert "is_active" not in form.fields
    assert "is_active" in admin_client.get(_url(Company, "change", company.pk)).context["adminform"].form.fields


def test_company_staff_cannot_create_an_api_key_for_another_company(acme_client, company, other_company):
    response = acme_client.post(
        _url(ApiKey, "add"), {"company": other_company.pk, "name": "Zapier", "access": ApiKeyAccess.READ_WRITE}
    )
    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()
    response = acme_client.post(
        _url(ApiKey, "add"), {"company": company.pk, "name": "Zapier", "access": ApiKeyAccess.READ_WRITE}
    )
    assert response.status_code == 302
    assert ApiKey.objects.get().company == company


def test_company_staff_cannot_revoke_another_companys_key(acme_client, company, other_company):
    theirs = crm.ApiKeyFactory(company=other_company)
    acme_client.post(_url(ApiKey, "changelist"), {"action": "revoke_keys", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def _workflow_form(company, **fields):
    management = {f"deliveries-{name}": 0 for name in ("TOTAL_FORMS", "INITIAL_FORMS")}
    return {
        "company": company.pk if company else "",
        "name": "CRM hook",
        "kind": "webhook",
        "config": '{"url": "https://example.com/hook"}',
        "stages": "[]",
        "conditions": "null",
        "is_active": "on",
        **management,
        **fields,
    }


@pytest.mark.parametrize("target", ["other", "global"])
def test_company_staff_cannot_add_a_workflow_for_another_company_nor_a_global_one(
    acme_client, company, other_company, target
):
    response = acme_client.post(_url(Workflow, "add"), _workflow_form(other_company if target == "other" else None))
    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
    assert not Workflow.objects.exists()


def test_a_visitor_of_ours_cannot_point_at_their_lead(acme_client, company, other_company):
    theirs = crm.LeadFactory(company=other_company)
    response = acme_client.post(_url(Visitor, "add"), {"company": company.pk, "lead": theirs.pk, "user_agent": "x"})
    assert response.status_code == 200
    assert "lead" in response.context["adminform"].form.errors
    assert not Visitor.objects.exists()


def test_our_company_action_cannot_show_their_product(acme_client, company, other_company):
    theirs = products.ProductFactory(company=other_company)
    action_company = ae.ActionCompanyFactory(company=company, action=ae.ActionFactory(system__slug="commerce"))
    response = acme_client.post(
        _url(ActionCompanySystemModule, "add"),
        {"action_company": action_company.pk, "position": 0, "kind": ModuleKind.PRODUCT, "product": theirs.pk},
    )
    assert response.status_code == 200
    assert "product" in response.context["adminform"].form.errors
    assert not ActionCompanySystemModule.objects.exists()


def test_company_staff_cannot_link_a_global_action_to_a_workflow(acme_client, company):
    global_action, ours = ae.ActionFactory(), wf.WorkflowFactory(company=company)
    response = acme_client.post(
        _url(ActionWorkflow, "add"), {"action": global_action.pk, "workflow": ours.pk, "position": 0}
    )
    assert response.status_code == 200
    assert "action" in response.context["adminform"].form.errors
    assert not ActionWorkflow.objects.exists()


def test_a_global_workflow_page_shows_only_our_deliveries(acme_client, company, other_company):
    global_workflow = wf.WorkflowFactory(company=None)
    ours = wf.DeliveryFactory(workflow=global_workflow, engagement__action_company__company=company)
    theirs = wf.DeliveryFactory(workflow=global_workflow, engagement__action_company__company=other_company)
    response = acme_client.get(_url(Workflow, "change", global_workflow.pk))
    assert response.status_code == 200
    shown = {form.instance.pk for inline in response.context["inline_admin_formsets"] for form in inline.formset.forms}
    assert ours.pk in shown and theirs.pk not in shown


# ---------------------------------------------------------------- autocomplete


def _autocomplete(client, model, field_name, term="") -> set[str]:
    query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name}
    response = client.get(reverse("admin:autocomplete"), {**query, "term": term})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_autocomplete_offers_only_our_rows(acme_client, company, other_company):
    assert _autocomplete(acme_client, Lead, "company") == {str(company.pk)}
    ours, theirs = products.ProductFactory(company=company), products.ProductFactory(company=other_company)
    assert _autocomplete(acme_client, ActionCompanySystemModule, "product") == {str(ours.pk)}
    assert _autocomplete(acme_client, Variant, "product") == {str(ours.pk)}
    lead = crm.LeadFactory(company=other_company, email="gina@globex.example")
    assert str(lead.pk) not in _autocomplete(acme_client, Visitor, "lead", "gina")


def test_autocomplete_offers_global_actions_to_use_but_not_to_change(acme_client, company, other_company):
    global_action, ours = ae.ActionFactory(), ae.ActionFactory(company=company)
    ae.ActionFactory(company=other_company)
    assert _autocomplete(acme_client, ActionCompany, "action") == {str(global_action.pk), str(ours.pk)}
    assert _autocomplete(acme_client, ActionWorkflow, "action") == {str(ours.pk)}  # the owner of the link


def test_users_are_not_autocompleted_for_company_staff(acme_client):
    query = {"app_label": "crm", "model_name": "lead", "field_name": "owner"}
    assert acme_client.get(reverse("admin:autocomplete"), query).status_code == 403


# ---------------------------------------------------------------- global catalogue rows


@pytest.mark.parametrize("model", [*CATALOGUE, Action, Workflow], ids=lambda model: model._meta.label)
def test_global_rows_are_visible_but_not_changeable_for_company_staff(acme_client, admin_client, model):
    global_makers = {Action: ae.ActionFactory, Workflow: lambda: wf.WorkflowFactory(company=None)}
    row = ROW_MAKERS[model]() if model in CATALOGUE else global_makers[model]()
    name = row.name
    assert row.pk in _listed(acme_client, model)
    page = acme_client.get(_url(model, "change", row.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert acme_client.post(_url(model, "change", row.pk), {"name": "Mine now"}).status_code == 403
    assert acme_client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    bulk_delete = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    acme_client.post(_url(model, "changelist"), bulk_delete)
    row = type(row)._default_manager.get(pk=row.pk)
    assert row.name == name
    # Superusers keep changing them.
    assert admin_client.get(_url(model, "change", row.pk)).context["has_change_permission"]


@pytest.mark.parametrize("model", CATALOGUE, ids=lambda model: model._meta.label)
def test_company_staff_cannot_add_catalogue_rows(acme_client, model):
    assert acme_client.get(_url(model, "add")).status_code == 403


def test_company_staff_cannot_resume_a_global_workflow(acme_client):
    paused = wf.WorkflowFactory(company=None, is_active=False)
    response = acme_client.post(
        _url(Workflow, "changelist"), {"action": "resume_workflows", "_selected_action": [paused.pk]}, follow=True
    )
    assert any("Left out 1 global row" in str(message) for message in response.context["messages"])
    paused.refresh_from_db()
    assert not paused.is_active


# ---------------------------------------------------------------- companies, users, no membership


def test_company_staff_may_not_add_companies_nor_use_users_and_groups(acme_client, company):
    assert acme_client.get(_url(Company, "add")).status_code == 403
    assert acme_client.post(_url(Company, "delete", company.pk), {"post": "yes"}).status_code == 403
    assert acme_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert acme_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_staff_without_a_membership_see_nothing(company):
    user = crm.UserFactory(username="drifter", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client = _signed_in(user)
    crm.LeadFactory(company=company)
    ae.ActionFactory()  # global
    for model in (Lead, Action, ActionType, Company):
        assert _listed(client, model) == set()
    assert client.get(_url(Lead, "add")).status_code == 403


def test_staff_of_a_deactivated_company_see_nothing(acme_client, company):
    crm.LeadFactory(company=company)
    company.is_active = False
    company.save()
    assert _listed(acme_client, Lead) == set()
