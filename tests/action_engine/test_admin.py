"""Action engine admin behaviour: company actions through the service, read-only history, catalogue rules."""
import json

import pytest
from django.contrib import admin
from django.urls import reverse

from action_engine.choices import ModuleKind, SystemSlug
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionSystem,
    ActionType,
    Engagement,
    Form,
    Message,
    ReceiverCall,
)
from action_engine.services import action_company_module_update
from crm.models import LeadReceiverAttempt
from salesassist.core.exceptions import InvalidInput
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    EngagementFactory,
    FormFactory,
    ModuleFactory,
    ReceiverCallFactory,
)
from tests.crm.factories import LeadReceiverAttemptFactory
from tests.products.factories import ProductFactory
from tests.workflows.factories import ActionCompanyWorkflowFactory, DeliveryAttemptFactory, WorkflowFactory
from workflows.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db


def _inline_management(response) -> dict:
    """The management-form data of every inline the page rendered, with no rows."""
    data = {}
    for inline_admin_formset in response.context["inline_admin_formsets"]:
        prefix = inline_admin_formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_adding_a_company_action_in_admin_creates_its_receiver_and_modules(admin_client, company):
    action = ActionFactory(system=ActionSystem.objects.get(slug=SystemSlug.FORMS))
    form = FormFactory(company=company)
    add_url = reverse("admin:action_engine_actioncompany_add")
    page = admin_client.get(add_url)
    prefixes = [f.formset.prefix for f in page.context["inline_admin_formsets"]]
    assert "receivers" not in prefixes  # made by the service, not typed in
    response = admin_client.post(
        add_url,
        {
            **_inline_management(page),
            "company": company.pk,
            "action": action.pk,
            "name": "Contact us",
            "config": "{}",
            "is_active": "on",
            "is_published": "on",
            "modules-TOTAL_FORMS": 1,
            "modules-0-position": 0,
            "modules-0-kind": ModuleKind.FORM,
            "modules-0-form": form.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    action_company = ActionCompany.objects.get(name="Contact us")
    assert action_company.company == company
    receiver = action_company.receivers.get()
    assert receiver.is_active and receiver.company == company
    assert [module.form for module in action_company.modules.all()] == [form]


def test_a_company_action_cannot_use_another_companys_action(admin_client, company, other_company):
    foreign_action = ActionFactory(company=other_company)
    page = admin_client.get(reverse("admin:action_engine_actioncompany_add"))
    response = admin_client.post(
        reverse("admin:action_engine_actioncompany_add"),
        {**_inline_management(page), "company": company.pk, "action": foreign_action.pk, "name": "X", "config": "{}"},
    )
    assert response.status_code == 200
    assert "action" in response.context["adminform"].form.errors
    assert not ActionCompany.objects.exists()


def test_a_module_of_the_wrong_kind_is_a_form_error(admin_client, company):
    action_company = ActionCompanyFactory(company=company)
    url = reverse("admin:action_engine_actioncompanysystemmodule_add")
    form = FormFactory(company=company)
    response = admin_client.post(
        url, {"action_company": action_company.pk, "kind": ModuleKind.PRODUCT, "form": form.pk, "position": 0}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not action_company.modules.exists()


def test_rotating_receivers_from_the_changelist_keeps_mapping_and_secret(admin_client):
    action_company = ActionCompanyFactory()
    old = action_company.receivers.get()
    old.mapping = {"lead": "data.lead", "visitor": "data.visitor"}
    old.secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw=="
    old.save()
    response = admin_client.post(
        reverse("admin:action_engine_actioncompany_changelist"),
        {"action": "rotate_receivers", "_selected_action": [action_company.pk]},
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert not old.is_active
    new = action_company.receivers.get(is_active=True)
    assert new.pk != old.pk
    assert (new.mapping, new.secret) == (old.mapping, old.secret)


def _receiver_add(admin_client, action_company, **fields):
    return admin_client.post(
        reverse("admin:action_engine_actioncompanyreceiver_add"),
        {
            "action_company": action_company.pk,
            "mapping": '{"lead": "data.lead", "visitor": "data.visitor"}',
            "calls-TOTAL_FORMS": 0,
            "calls-INITIAL_FORMS": 0,
            **fields,
        },
        follow=True,
    )


def test_adding_a_receiver_in_admin_rotates(admin_client):
    action_company = ActionCompanyFactory(action__system=ActionSystem.objects.get(slug=SystemSlug.FORMS))
    old = action_company.receivers.get()
    response = _receiver_add(admin_client, action_company, default_stage="submitted")
    assert response.redirect_chain
    new = ActionCompanyReceiver.objects.get(action_company=action_company, is_active=True)
    assert new.pk != old.pk and new.company_id == action_company.company_id
    assert new.mapping == {"lead": "data.lead", "visitor": "data.visitor"} and new.default_stage == "submitted"
    assert new.secret == ""


def test_adding_a_signed_receiver_shows_its_secret_once(admin_client):
    action_company = ActionCompanyFactory()
    response = _receiver_add(admin_client, action_company, generate_secret="on")
    new = ActionCompanyReceiver.objects.get(action_company=action_company, is_active=True)
    assert new.secret.startswith("whsec_")
    assert any(new.secret in str(message) for message in response.context["messages"])
    change_page = admin_client.get(reverse("admin:action_engine_actioncompanyreceiver_change", args=[new.pk]))
    assert new.secret not in change_page.content.decode()


def test_a_receiver_default_stage_outside_the_pipeline_is_a_form_error(admin_client):
    action_company = ActionCompanyFactory(action__system=ActionSystem.objects.get(slug=SystemSlug.FORMS))
    old = action_company.receivers.get()
    response = _receiver_add(admin_client, action_company, default_stage="purchased")
    assert not response.redirect_chain
    assert "default_stage" in response.context["adminform"].form.errors
    assert action_company.receivers.get(is_active=True) == old


def test_receiver_secret_is_never_shown(admin_client):
    receiver = ActionCompanyFactory().receivers.get()
    receiver.secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw=="
    receiver.save()
    for url in (
        reverse("admin:action_engine_actioncompanyreceiver_change", args=[receiver.pk]),
        reverse("admin:action_engine_actioncompany_change", args=[receiver.action_company.pk]),
    ):
        assert receiver.secret not in admin_client.get(url).content.decode()


def test_a_duplicate_global_action_slug_is_a_form_error(admin_client):
    ActionFactory(slug="contact-form")
    data = {
        "name": "Contact form",
        "slug": "contact-form",
        "type": ActionType.objects.get(slug="form").pk,
        "system": ActionSystem.objects.get(slug=SystemSlug.FORMS).pk,
        "config": "{}",
        "action_workflows-TOTAL_FORMS": 0,
        "action_workflows-INITIAL_FORMS": 0,
    }
    response = admin_client.post(reverse("admin:action_engine_action_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"slug": ["A global action already has this slug."]}
    assert Action.objects.filter(slug="contact-form").count() == 1
    # Once the first is deleted the slug is free again.
    Action.objects.get(slug="contact-form").delete()
    assert admin_client.post(reverse("admin:action_engine_action_add"), data).status_code == 302


def test_engagement_page_shows_its_message_read_only(admin_client):
    engagement = EngagementFactory(message__body={"data": {"email": "shown@example.com"}})
    page = admin_client.get(reverse("admin:action_engine_engagement_change", args=[engagement.pk]))
    assert page.status_code == 200
    assert "shown@example.com" in page.content.decode()
    assert not page.context["has_change_permission"]


HISTORY = {
    Engagement: EngagementFactory,
    Message: lambda: EngagementFactory().message,
    ReceiverCall: ReceiverCallFactory,
    LeadReceiverAttempt: LeadReceiverAttemptFactory,
    DeliveryAttempt: DeliveryAttemptFactory,
    Delivery: lambda: DeliveryAttemptFactory().delivery,
}


@pytest.mark.parametrize("model", list(HISTORY), ids=lambda model: model._meta.label)
def test_history_refuses_add_change_and_delete(admin_client, superuser, rf, model):
    row = HISTORY[model]()
    opts = model._meta
    request = rf.get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request, row)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)

    name = f"admin:{opts.app_label}_{opts.model_name}"
    assert admin_client.get(reverse(f"{name}_add")).status_code == 403
    assert admin_client.post(reverse(f"{name}_change", args=[row.pk]), {}).status_code == 403
    assert admin_client.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in model_admin.get_actions(request)
    # Posting it anyway is ignored ("no action selected"), whatever other actions the page offers.
    admin_client.post(
        reverse(f"{name}_changelist"), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=row.pk).exists()


def _change_action_company(admin_client, action_company, changes=None, **rows):
    """Post the company action's change form as it is, plus the given inline rows and `changes` (by key)."""
    url = reverse("admin:action_engine_actioncompany_change", args=[action_company.pk])
    page = admin_client.get(url)
    data = {
        "company": action_company.company.pk,
        "action": action_company.action.pk,
        "name": action_company.name,
        "config": "{}",
        "is_active": "on",
        "is_published": "on",
    }
    for inline_admin_formset in page.context["inline_admin_formsets"]:
        formset = inline_admin_formset.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for index, form in enumerate(formset.forms):
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                if isinstance(value, dict | list):  # a JSON field (a receiver's mapping), as its widget shows it
                    value = json.dumps(value)
                data[f"{formset.prefix}-{index}-{name}"] = value.pk if hasattr(value, "pk") else value
        for row_index, row in enumerate(rows.get(formset.prefix, []), start=len(formset.forms)):
            data.update({f"{formset.prefix}-{row_index}-{name}": value for name, value in row.items()})
        data[f"{formset.prefix}-TOTAL_FORMS"] = len(formset.forms) + len(rows.get(formset.prefix, []))
    data = {key: ("" if value is None else value) for key, value in {**data, **(changes or {})}.items()}
    return admin_client.post(url, data)


def _inline_errors(response, prefix):
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix]
    return [errors for errors in formset.errors if errors]


def test_modules_are_checked_against_the_action_in_the_inline(admin_client, company, other_company):
    action_company = ActionCompanyFactory(
        company=company, action=ActionFactory(system=ActionSystem.objects.get(slug=SystemSlug.COMMERCE))
    )
    own, foreign = ProductFactory(company=company), ProductFactory(company=other_company)
    own_form = FormFactory(company=company)
    cases = [
        [{"kind": ModuleKind.FORM, "form": own_form.pk, "position": 0}],  # commerce shows products only
        [{"kind": ModuleKind.PRODUCT, "product": foreign.pk, "position": 0}],  # another company's product
        [{"kind": ModuleKind.PRODUCT, "product": own.pk, "position": 0}] * 2,  # twice
    ]
    for modules in cases:
        response = _change_action_company(admin_client, action_company, modules=modules)
        assert response.status_code == 200, modules
        assert _inline_errors(response, "modules"), modules
        assert not action_company.modules.exists()
    response = _change_action_company(
        admin_client, action_company, modules=[{"kind": ModuleKind.PRODUCT, "product": own.pk, "position": 0}]
    )
    assert response.status_code == 302
    assert [m.product for m in action_company.modules.all()] == [own]


def test_a_company_action_runs_only_its_own_companys_workflows(admin_client, company, other_company):
    action_company = ActionCompanyFactory(company=company)
    foreign, own = WorkflowFactory(company=other_company), WorkflowFactory(company=company)
    response = _change_action_company(
        admin_client, action_company, company_workflows=[{"workflow": foreign.pk, "position": 0}]
    )
    assert response.status_code == 200
    assert _inline_errors(response, "company_workflows")
    response = _change_action_company(
        admin_client, action_company, company_workflows=[{"workflow": own.pk, "position": 0}]
    )
    assert response.status_code == 302
    assert [link.workflow for link in action_company.company_workflows.all()] == [own]


def test_a_module_added_on_its_own_page_is_checked_too(admin_client, company, other_company):
    action_company = ActionCompanyFactory(company=company)  # a forms action
    response = admin_client.post(
        reverse("admin:action_engine_actioncompanysystemmodule_add"),
        {
            "action_company": action_company.pk,
            "kind": ModuleKind.FORM,
            "form": FormFactory(company=other_company).pk,
            "position": 0,
        },
    )
    assert response.status_code == 200
    assert "form" in response.context["adminform"].form.errors
    assert not action_company.modules.exists()


@pytest.mark.parametrize(
    "schema",
    ['"not an object"', '{"type": "array"}', '{"type": "object", "properties": {"a": {"type": "no-such-type"}}}'],
)
def test_a_form_schema_must_be_a_json_schema_of_an_object(admin_client, company, schema):
    response = admin_client.post(
        reverse("admin:action_engine_form_add"),
        {"company": company.pk, "name": "Bad", "schema": schema, "submit_label": "Send", "success_message": "Ok"},
    )
    assert response.status_code == 200
    assert "schema" in response.context["adminform"].form.errors
    assert not company.forms.exists()


def test_receiver_pages_show_the_url_to_hand_to_the_third_party(admin_client):
    receiver = ActionCompanyFactory().receivers.get()
    url = f"api.action-engine.localhost:8000/v1/receivers/{receiver.uuid}"
    for page in (
        reverse("admin:action_engine_actioncompany_change", args=[receiver.action_company.pk]),
        reverse("admin:action_engine_actioncompanyreceiver_change", args=[receiver.pk]),
    ):
        assert f'href="//{url}"' in admin_client.get(page).content.decode()


def test_engagement_page_shows_its_deliveries(admin_client):
    attempt = DeliveryAttemptFactory()
    delivery = attempt.delivery
    page = admin_client.get(reverse("admin:action_engine_engagement_change", args=[delivery.engagement.pk]))
    (deliveries,) = [f.formset for f in page.context["inline_admin_formsets"] if f.formset.model is Delivery]
    assert [form.instance for form in deliveries.forms] == [delivery]
    assert delivery.workflow.name in page.content.decode()


def test_receiver_call_page_shows_headers_and_error_as_json(admin_client):
    call = ReceiverCallFactory(headers={"content-type": "application/json"}, error={"title": "Invalid input"})
    page = admin_client.get(reverse("admin:action_engine_receivercall_change", args=[call.pk])).content.decode()
    assert "&quot;content-type&quot;: &quot;application/json&quot;" in page
    assert "&quot;title&quot;: &quot;Invalid input&quot;" in page


# ---------------------------------------------------------------- the services' rules, kept by admin writes


def test_an_action_that_company_actions_use_is_not_deleted_in_admin(admin_client):
    used, unused = ActionFactory(), ActionFactory()
    ActionCompanyFactory(action=used)
    page = admin_client.post(reverse("admin:action_engine_action_delete", args=[used.pk]), {"post": "yes"})
    assert page.status_code == 200
    assert "Company actions still use this action" in page.content.decode()
    changelist = reverse("admin:action_engine_action_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk], "post": "yes"}
    assert admin_client.post(changelist, bulk).status_code == 200  # the page listing what prevents it
    assert Action.objects.filter(pk__in=[used.pk, unused.pk]).count() == 2


def test_a_form_that_a_company_action_shows_is_not_deleted_in_admin(admin_client):
    module = ModuleFactory(kind=ModuleKind.FORM)
    page = admin_client.post(reverse("admin:action_engine_form_delete", args=[module.form.pk]), {"post": "yes"})
    assert "Company actions still show this form" in page.content.decode()
    assert Form.objects.filter(pk=module.form.pk).exists()


def test_deleting_a_company_action_in_admin_stops_its_receiver(admin_client):
    action_company = ActionCompanyFactory()
    response = admin_client.post(
        reverse("admin:action_engine_actioncompany_delete", args=[action_company.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert ActionCompany.all_objects.get(pk=action_company.pk).is_deleted
    assert not action_company.receivers.filter(is_active=True).exists()


def test_the_system_of_an_action_in_use_does_not_change_in_admin(admin_client):
    action_company = ActionCompanyFactory(action__system=ActionSystem.objects.get(slug=SystemSlug.FORMS))
    action = action_company.action
    data = {
        "name": action.name,
        "slug": action.slug,
        "type": action.type.pk,
        "system": ActionSystem.objects.get(slug=SystemSlug.COMMERCE).pk,
        "config": "{}",
        "action_workflows-TOTAL_FORMS": 0,
        "action_workflows-INITIAL_FORMS": 0,
    }
    response = admin_client.post(reverse("admin:action_engine_action_change", args=[action.pk]), data)
    assert response.status_code == 200
    assert "system" in response.context["adminform"].form.errors
    action.refresh_from_db()
    assert action.system.slug == SystemSlug.FORMS


def test_a_company_action_keeps_its_company_and_action_in_admin(admin_client, company, other_company):
    action_company = ActionCompanyFactory(company=company)
    page = admin_client.get(reverse("admin:action_engine_actioncompany_change", args=[action_company.pk]))
    assert {"company", "action"}.isdisjoint(page.context["adminform"].form.fields)
    response = _change_action_company(admin_client, action_company)
    assert response.status_code == 302
    action_company.refresh_from_db()
    assert action_company.company == company


def test_a_receiver_changed_in_admin_keeps_its_default_stage_in_the_pipeline(admin_client):
    receiver = ActionCompanyFactory(action__system=ActionSystem.objects.get(slug=SystemSlug.FORMS)).receivers.get()
    url = reverse("admin:action_engine_actioncompanyreceiver_change", args=[receiver.pk])
    calls = {"calls-TOTAL_FORMS": 0, "calls-INITIAL_FORMS": 0}
    response = admin_client.post(url, {"default_stage": "purchased", "mapping": '{"visitor": "visitor"}', **calls})
    assert response.status_code == 200
    assert "default_stage" in response.context["adminform"].form.errors
    mapping = '{"lead": "data.lead", "visitor": "data.visitor"}'
    response = admin_client.post(url, {"default_stage": "submitted", "mapping": mapping, **calls})
    assert response.status_code == 302
    receiver.refresh_from_db()
    assert (receiver.default_stage, receiver.mapping, receiver.is_active) == ("submitted", json.loads(mapping), True)


def test_modules_removed_in_the_inline_are_detached(admin_client, company):
    module = ModuleFactory(kind=ModuleKind.FORM, action_company=ActionCompanyFactory(company=company))
    response = _change_action_company(admin_client, module.action_company)
    assert response.status_code == 302  # unchanged rows are kept
    assert list(module.action_company.modules.all()) == [module]
    response = _change_action_company(admin_client, module.action_company, changes={"modules-0-DELETE": "on"})
    assert response.status_code == 302
    assert not module.action_company.modules.exists()


def test_a_module_changed_in_the_inline_is_updated_through_the_service(admin_client, company, other_company):
    action_company = ActionCompanyFactory(company=company)  # a forms action
    module = ModuleFactory(kind=ModuleKind.FORM, form=FormFactory(company=company), action_company=action_company)
    other, foreign = FormFactory(company=company), FormFactory(company=other_company)
    response = _change_action_company(admin_client, action_company, changes={"modules-0-form": foreign.pk})
    assert response.status_code == 200
    assert _inline_errors(response, "modules")
    response = _change_action_company(
        admin_client, action_company, changes={"modules-0-form": other.pk, "modules-0-position": 3}
    )
    assert response.status_code == 302
    module.refresh_from_db()
    assert (module.form, module.position) == (other, 3)


def test_a_module_changed_on_its_own_page_keeps_the_attach_rules(admin_client, company, other_company):
    action_company = ActionCompanyFactory(company=company)  # a forms action
    module = ModuleFactory(kind=ModuleKind.FORM, form=FormFactory(company=company), action_company=action_company)
    url = reverse("admin:action_engine_actioncompanysystemmodule_change", args=[module.pk])
    data = {"action_company": action_company.pk, "kind": ModuleKind.FORM, "position": 0}
    response = admin_client.post(url, {**data, "form": FormFactory(company=other_company).pk})
    assert response.status_code == 200
    assert "form" in response.context["adminform"].form.errors
    product = ProductFactory(company=company)
    response = admin_client.post(url, {**data, "kind": ModuleKind.PRODUCT, "form": "", "product": product.pk})
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
    other = FormFactory(company=company)
    response = admin_client.post(url, {**data, "form": other.pk, "position": 2})
    assert response.status_code == 302
    module.refresh_from_db()
    assert (module.form, module.position) == (other, 2)


def test_the_module_update_service_refuses_what_attach_refuses(company):
    action_company = ActionCompanyFactory(company=company)  # a forms action
    first, second = (
        ModuleFactory(kind=ModuleKind.FORM, form=FormFactory(company=company), action_company=action_company)
        for _ in range(2)
    )
    with pytest.raises(InvalidInput):  # attached twice
        action_company_module_update(module=second, form=first.form)
    with pytest.raises(InvalidInput):  # a kind the system does not show
        action_company_module_update(
            module=second, kind=ModuleKind.PRODUCT, form=None, product=ProductFactory(company=company)
        )
    with pytest.raises(TypeError):
        action_company_module_update(module=second, uuid=None)
    second.refresh_from_db()  # a refused update leaves the stored row as it was
    assert second.form != first.form
    assert action_company_module_update(module=second, position=5).position == 5


def test_a_company_workflow_changed_or_removed_in_the_inline_goes_through_the_services(
    admin_client, company, other_company
):
    action_company = ActionCompanyFactory(company=company)
    link = ActionCompanyWorkflowFactory(action_company=action_company, workflow=WorkflowFactory(company=company))
    own = WorkflowFactory(company=company)
    foreign = WorkflowFactory(company=other_company)
    response = _change_action_company(admin_client, action_company, changes={"company_workflows-0-workflow": foreign.pk})
    assert response.status_code == 200
    assert _inline_errors(response, "company_workflows")
    response = _change_action_company(admin_client, action_company, changes={"company_workflows-0-workflow": own.pk})
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.workflow == own
    response = _change_action_company(admin_client, action_company, changes={"company_workflows-0-DELETE": "on"})
    assert response.status_code == 302
    assert not action_company.company_workflows.exists()
