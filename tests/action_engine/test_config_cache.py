"""The hot path's per-process configuration cache (salesassist/core/config.py, action_engine/configs.py,
workflows/selectors.py): a change through the API or admin is seen by the very next engagement request."""

import json
import os
import uuid
from decimal import Decimal

import httpx
import pytest
from django.urls import reverse
from django_hosts.resolvers import reverse_host

from action_engine.choices import ModuleKind
from action_engine.models import ActionCompany
from products.models import Content, Product
from salesassist.core.config import ConfigCache, config_version, config_version_bump, config_version_pinned
from salesassist.hosts import ACTION_ENGINE_API
from tests.action_engine.factories import ModuleFactory
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    commerce_action,
    content_action,
    engagement_body,
    forms_action,
    lead,
    public_api,
)
from tests.action_engine.test_admin import _inline_management
from tests.security.test_throttles import gunicorn  # noqa: F401  (fixture)
from tests.workflows.factories import ActionCompanyWorkflowFactory, ActionWorkflowFactory, WorkflowFactory
from workflows.models import ActionCompanyWorkflow, Delivery

pytestmark = pytest.mark.django_db

FORM_RESULT = {"data": {"email": "ada@example.com"}}


def submit(public_api, action_company, lead, message=FORM_RESULT, stage="submitted", **extra):
    body = engagement_body(action_company, lead, uuid.uuid4(), stage, message)
    body.update(extra)
    return public_api.post(ENGAGEMENTS_URL, body, format="json")


def admin_change(admin_client, url, **changes):
    """Post an admin change form as it was rendered, with `changes` (inline rows left as they are)."""
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    data.update(_inline_management(page))
    data.update(changes)
    response = admin_client.post(url, data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context["adminform"].errors
    return response


def form_of(action_company):
    return action_company.modules.get(kind=ModuleKind.FORM).form


# --- the mechanism ----------------------------------------------------------------------------------------


def test_a_cache_reloads_after_a_bump_and_a_pinned_request_reads_the_version_once(django_assert_num_queries):
    loads = []
    cache = ConfigCache(lambda key: loads.append(key) or f"value of {key}")
    assert cache.get("a") == cache.get("a") == "value of a"
    assert loads == ["a"]
    config_version_bump()
    assert cache.get("a") == "value of a"
    assert loads == ["a", "a"]
    with config_version_pinned(), django_assert_num_queries(1):
        cache.get("a")
        cache.get("b")
        assert config_version() is not None
    # A bump inside the pinned scope is seen by the scope's next read.
    with config_version_pinned():
        before = config_version()
        config_version_bump()
        assert config_version() != before


def test_nothing_is_cached_for_an_unknown_key():
    loads = []
    cache = ConfigCache(lambda key: loads.append(key))
    assert cache.get("x") is None and cache.get("x") is None
    assert loads == ["x", "x"]


def test_a_queryset_write_and_a_hard_delete_bump_the_version(company):
    before = config_version()
    Product.objects.filter(company=company).update(name="x")
    assert config_version() != before
    before = config_version()
    product = Product.objects.create(company=company, name="P", price=Decimal("1.00"))
    assert config_version() != before
    before = config_version()
    product.hard_delete()
    assert config_version() != before


def test_a_write_of_only_fields_no_cache_reads_does_not_bump(company):
    from django.utils import timezone

    from workflows.models import Workflow

    workflow = WorkflowFactory(company=company)
    before = config_version()
    Workflow.all_objects.filter(pk=workflow.pk).update(failing_since=timezone.now())
    workflow.save(update_fields=["failing_since", "updated_at"])
    assert config_version() == before
    Workflow.all_objects.filter(pk=workflow.pk).update(is_active=False, updated_at=timezone.now())
    assert config_version() != before


def test_handed_out_company_actions_are_copies(public_api, forms_action, lead):
    from action_engine.selectors import public_action_company_get

    first = public_action_company_get(action_uuid=forms_action.uuid)
    first.name = "changed by a caller"
    first.company.settings["require_link_token"] = False
    second = public_action_company_get(action_uuid=forms_action.uuid)
    assert second.name == forms_action.name
    assert "require_link_token" not in second.company.settings


# --- changes through the API ------------------------------------------------------------------------------


def test_a_workflow_attached_through_the_api_gets_a_delivery_on_the_next_engagement(
    public_api, action_engine_api, forms_action, lead, company
):
    assert submit(public_api, forms_action, lead).status_code == 201
    assert not Delivery.objects.exists()
    workflow = WorkflowFactory(company=company)
    attached = action_engine_api.post(
        f"/v1/company-actions/{forms_action.uuid}/workflows", {"workflow": str(workflow.uuid)}, format="json"
    )
    assert attached.status_code == 201, attached.content
    assert submit(public_api, forms_action, lead).status_code == 201
    assert list(Delivery.objects.values_list("workflow_id", flat=True)) == [workflow.pk]

    detached = action_engine_api.delete(f"/v1/company-actions/{forms_action.uuid}/workflows/{workflow.uuid}")
    assert detached.status_code == 204, detached.content
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 1


def test_a_workflow_paused_or_deleted_through_the_api_stops_firing(public_api, action_engine_api, forms_action, lead, company):
    workflow = WorkflowFactory(company=company)
    ActionCompanyWorkflowFactory(action_company=forms_action, workflow=workflow)
    ActionWorkflowFactory(action=forms_action.action, workflow=WorkflowFactory(company=company))
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 2
    assert action_engine_api.patch(f"/v1/workflows/{workflow.uuid}", {"is_active": False}, format="json").status_code == 200
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 3
    assert action_engine_api.delete(f"/v1/workflows/{workflow.uuid}").status_code == 204
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 4


def test_a_form_schema_changed_through_the_api_validates_the_next_submission(
    public_api, action_engine_api, forms_action, lead
):
    assert submit(public_api, forms_action, lead).status_code == 201
    form = form_of(forms_action)
    schema = {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}
    assert action_engine_api.patch(f"/v1/forms/{form.uuid}", {"schema": schema}, format="json").status_code == 200
    refused = submit(public_api, forms_action, lead)
    assert refused.status_code == 400
    assert "data.phone" in json.dumps(refused.json())
    assert submit(public_api, forms_action, lead, {"data": {"phone": "1"}}).status_code == 201


def test_a_company_action_deactivated_or_deleted_through_the_api_is_a_404_next(
    public_api, action_engine_api, forms_action, lead
):
    assert submit(public_api, forms_action, lead).status_code == 201
    url = f"/v1/company-actions/{forms_action.uuid}"
    assert action_engine_api.patch(url, {"is_active": False}, format="json").status_code == 200
    assert submit(public_api, forms_action, lead).status_code == 404
    assert action_engine_api.patch(url, {"is_active": True}, format="json").status_code == 200
    assert submit(public_api, forms_action, lead).status_code == 201
    assert action_engine_api.delete(url).status_code == 204
    assert submit(public_api, forms_action, lead).status_code == 404


def test_a_module_added_through_the_api_is_validated_against_next(public_api, action_engine_api, content_action, lead, company):
    from tests.products.factories import ContentFactory

    extra = ContentFactory(company=company, title="Price list")
    download = {"content": str(extra.uuid)}
    assert submit(public_api, content_action, lead, download, stage="downloaded").status_code == 400
    added = action_engine_api.post(
        f"/v1/company-actions/{content_action.uuid}/modules",
        {"kind": ModuleKind.CONTENT, "target": str(extra.uuid)},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert submit(public_api, content_action, lead, download, stage="downloaded").status_code == 201


def test_a_price_and_a_product_changed_through_the_api_are_used_next(
    public_api, products_api, commerce_action, lead
):
    product = Product.objects.get(name="Widget")
    cart = {"items": [{"product": str(product.uuid), "quantity": 2}]}
    first = submit(public_api, commerce_action, lead, cart, stage="purchased")
    assert first.status_code == 201
    assert products_api.patch(f"/v1/products/{product.uuid}", {"price": "11.00"}, format="json").status_code == 200
    assert submit(public_api, commerce_action, lead, cart, stage="purchased").status_code == 201
    engagement = ActionCompany.objects.get(pk=commerce_action.pk).engagements.order_by("-id").first()
    assert engagement.message.body["total"] == "22.00"
    assert products_api.patch(f"/v1/products/{product.uuid}", {"is_published": False}, format="json").status_code == 200
    assert submit(public_api, commerce_action, lead, cart, stage="purchased").status_code == 400


def test_content_unpublished_through_the_api_is_refused_next(public_api, products_api, content_action, lead):
    content = Content.objects.get(title="Brochure")
    download = {"content": str(content.uuid)}
    assert submit(public_api, content_action, lead, download, stage="downloaded").status_code == 201
    patched = products_api.patch(f"/v1/content/{content.uuid}", {"is_published": False}, format="json")
    assert patched.status_code == 200, patched.content
    assert submit(public_api, content_action, lead, download, stage="downloaded").status_code == 400


# --- changes through admin --------------------------------------------------------------------------------


def test_a_form_schema_changed_in_admin_validates_the_next_submission(admin_client, public_api, forms_action, lead):
    assert submit(public_api, forms_action, lead).status_code == 201
    form = form_of(forms_action)
    schema = {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}
    admin_change(admin_client, reverse("admin:action_engine_form_change", args=[form.pk]), schema=json.dumps(schema))
    assert submit(public_api, forms_action, lead).status_code == 400


def test_a_company_action_deactivated_or_deleted_in_admin_is_a_404_next(
    admin_client, public_api, forms_action, lead
):
    assert submit(public_api, forms_action, lead).status_code == 201
    admin_change(admin_client, reverse("admin:action_engine_actioncompany_change", args=[forms_action.pk]), is_active="")
    assert submit(public_api, forms_action, lead).status_code == 404
    admin_change(
        admin_client, reverse("admin:action_engine_actioncompany_change", args=[forms_action.pk]), is_active="on"
    )
    assert submit(public_api, forms_action, lead).status_code == 201
    deleted = admin_client.post(
        reverse("admin:action_engine_actioncompany_delete", args=[forms_action.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert submit(public_api, forms_action, lead).status_code == 404


def test_a_workflow_linked_and_unlinked_in_admin_is_seen_next(admin_client, public_api, forms_action, lead, company):
    workflow = WorkflowFactory(company=company)
    assert submit(public_api, forms_action, lead).status_code == 201
    added = admin_client.post(
        reverse("admin:workflows_actioncompanyworkflow_add"),
        {"action_company": forms_action.pk, "workflow": workflow.pk, "position": 0},
    )
    assert added.status_code == 302, added.context and added.context["adminform"].errors
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 1
    link = ActionCompanyWorkflow.objects.get(action_company=forms_action)
    deleted = admin_client.post(reverse("admin:workflows_actioncompanyworkflow_delete", args=[link.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert submit(public_api, forms_action, lead).status_code == 201
    assert Delivery.objects.count() == 1


def test_the_link_token_setting_changed_in_admin_applies_next(admin_client, public_api, forms_action, lead, company):
    assert submit(public_api, forms_action, lead, token="").status_code == 403
    admin_change(
        admin_client,
        reverse("admin:crm_company_change", args=[company.pk]),
        settings=json.dumps({"require_link_token": False}),
    )
    assert submit(public_api, forms_action, lead, token="").status_code == 201


def test_a_form_module_removed_in_admin_leaves_the_action_without_a_form(admin_client, public_api, forms_action, lead):
    module = forms_action.modules.get()
    ModuleFactory(action_company=forms_action, kind=ModuleKind.FORM)  # a second form, then the first goes
    deleted = admin_client.post(
        reverse("admin:action_engine_actioncompanysystemmodule_delete", args=[module.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    chosen = submit(public_api, forms_action, lead, {"form": str(module.form.uuid), **FORM_RESULT})
    assert chosen.status_code == 400
    assert "message.form" in json.dumps(chosen.json())


# --- across processes -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="gunicorn's workers in other processes need a shared database: PostgreSQL",
)
def test_two_gunicorn_workers_see_a_change_made_in_another_process(gunicorn, forms_action, lead, company):  # noqa: F811
    server = gunicorn(THROTTLE_PUBLIC_IP="100000/min", THROTTLE_PUBLIC_ACTION="100000/min", CONN_MAX_AGE="0")
    url = f"http://127.0.0.1:{server.port}{ENGAGEMENTS_URL}"
    headers = {"Host": reverse_host(ACTION_ENGINE_API)}

    def statuses(message=FORM_RESULT) -> set[int]:
        # A new connection each time, so that both workers answer (and cache) some.
        return {
            httpx.post(
                url, json=engagement_body(forms_action, lead, uuid.uuid4(), "submitted", message), headers=headers
            ).status_code
            for _ in range(12)
        }

    assert statuses() == {201}
    form = form_of(forms_action)
    form.schema = {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}
    form.save()
    assert statuses() == {400}
    ActionCompanyWorkflowFactory(action_company=forms_action, workflow=WorkflowFactory(company=company))
    assert statuses({"data": {"phone": "1"}}) == {201}
    assert Delivery.objects.count() == 12
    ActionCompany.objects.filter(pk=forms_action.pk).update(is_active=False)
    assert statuses() == {404}


def test_with_the_action_cached_a_lead_of_another_company_or_none_is_still_the_one_404(
    public_api, forms_action, lead, other_company
):
    from tests.crm.factories import LeadFactory

    assert submit(public_api, forms_action, lead).status_code == 201  # the action is cached now
    foreign = LeadFactory(company=other_company)
    assert submit(public_api, forms_action, foreign).status_code == 404
    lead.delete()
    assert submit(public_api, forms_action, lead).status_code == 404
