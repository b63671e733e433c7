"""api.action-engine/v1/company-actions: CRUD and the nested receivers, workflows and modules."""
import pytest
from standardwebhooks import Webhook

from action_engine.models import ActionCompany, ActionCompanyReceiver
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    FormFactory,
    ModuleFactory,
)
from tests.products.factories import ContentFactory, ProductFactory
from tests.workflows.factories import WorkflowFactory
from workflows.models import ActionCompanyWorkflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def forms_action(db):
    return ActionFactory(company=None, name="Contact form")


def test_create_makes_the_receiver_and_reads_back(action_engine_api, company, forms_action):
    response = action_engine_api.post(
        "/v1/company-actions/", {"action": str(forms_action.uuid), "config": {"color": "red"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Contact form"  # the catalogue action's name by default
    assert body["system"] == "forms" and body["pipeline"] == ["sent", "opened", "submitted"]
    action_company = ActionCompany.objects.get(uuid=body["uuid"])
    assert action_company.company == company
    receiver = action_company.receivers.get()
    assert body["receiver"] == str(receiver.uuid) and receiver.is_active

    listing = action_engine_api.get("/v1/company-actions?system=forms")
    assert [row["uuid"] for row in listing.json()["results"]] == [body["uuid"]]


def test_update_and_soft_delete(action_engine_api, company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    patched = action_engine_api.patch(
        f"/v1/company-actions/{action_company.uuid}", {"name": "Renamed", "is_published": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    other = ActionFactory(company=None)
    moved = action_engine_api.patch(
        f"/v1/company-actions/{action_company.uuid}", {"action": str(other.uuid)}, format="json"
    )
    assert moved.status_code == 400 and "action" in moved.json()["errors"]

    assert action_engine_api.delete(f"/v1/company-actions/{action_company.uuid}").status_code == 204
    assert ActionCompany.all_objects.get(pk=action_company.pk).deleted_at is not None
    assert not ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).exists()
    assert action_engine_api.get(f"/v1/company-actions/{action_company.uuid}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "action"),
        ({"action": "nope"}, "action"),
        ({"action": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "action"),
        ({"name": "x" * 201}, "name"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"receiver": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "receiver"),
    ],
)
def test_create_validation(action_engine_api, forms_action, payload, field):
    payload = {"action": str(forms_action.uuid), **payload} if "action" not in payload and payload else payload
    response = action_engine_api.post("/v1/company-actions", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_another_companys_own_action_cannot_be_used(action_engine_api, other_company):
    foreign = ActionFactory(company=other_company)
    response = action_engine_api.post("/v1/company-actions", {"action": str(foreign.uuid)}, format="json")
    assert response.status_code == 400 and "action" in response.json()["errors"]


# --- receivers --------------------------------------------------------------------------------------


def test_receivers_list_and_rotate(action_engine_api, company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    first = action_company.receivers.get()
    first.mapping = {"lead": "data.lead", "visitor": "data.visitor"}
    first.default_stage = "submitted"
    first.save()
    base = f"/v1/company-actions/{action_company.uuid}/receivers"

    rotated = action_engine_api.post(base, {"generate_secret": True}, format="json")
    assert rotated.status_code == 201, rotated.json()
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["has_secret"] is True
    Webhook(body["secret"])  # a valid Standard Webhooks secret
    assert body["mapping"] == {"lead": "data.lead", "visitor": "data.visitor"} and body["default_stage"] == "submitted"
    assert body["url"].endswith(f"/v1/receivers/{body['uuid']}")

    listing = action_engine_api.get(base).json()
    assert [row["uuid"] for row in listing] == [body["uuid"], str(first.uuid)]
    assert [row["is_active"] for row in listing] == [True, False]
    assert "secret" not in listing[0]
    assert action_engine_api.get(f"{base}/{first.uuid}").json()["is_active"] is False

    plain = action_engine_api.post(base, {"mapping": {"visitor": "visitor"}, "default_stage": ""}, format="json")
    assert plain.status_code == 201
    assert plain.json()["secret"] == "" and plain.json()["has_secret"] is False
    current = action_engine_api.get(f"/v1/company-actions/{action_company.uuid}").json()["receiver"]
    assert current == plain.json()["uuid"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"secret": "not-a-secret"}, "secret"),
        ({"default_stage": "purchased"}, "default_stage"),
        ({"mapping": "lead"}, "mapping"),
        ({"mapping": {"lead": "data.lead"}}, "mapping"),
        ({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "generate_secret": True}, "secret"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_rotate_validation(action_engine_api, company, forms_action, payload, field):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    response = action_engine_api.post(f"/v1/company-actions/{action_company.uuid}/receivers", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert action_company.receivers.count() == 1


# --- workflows --------------------------------------------------------------------------------------


def test_workflows_attach_detach_reorder(action_engine_api, company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    first, second = WorkflowFactory(company=company, name="CRM"), WorkflowFactory(company=company, name="Slack")
    base = f"/v1/company-actions/{action_company.uuid}/workflows/"
    for workflow in (first, second):
        response = action_engine_api.post(base, {"workflow": str(workflow.uuid)}, format="json")
        assert response.status_code == 201
        assert response.json()["workflow"] == str(workflow.uuid)
    order = {"workflows": [str(second.uuid), str(first.uuid)]}
    reordered = action_engine_api.post(f"{base}reorder/", order, format="json")
    assert [row["name"] for row in reordered.json()] == ["Slack", "CRM"]
    assert [row["name"] for row in action_engine_api.get(base).json()] == ["Slack", "CRM"]
    assert action_engine_api.delete(f"{base}{second.uuid}").status_code == 204
    links = ActionCompanyWorkflow.objects.filter(action_company=action_company)
    assert list(links.values_list("workflow", flat=True)) == [first.pk]
    assert action_engine_api.delete(f"{base}{second.uuid}").status_code == 404


def test_foreign_or_global_workflow_cannot_be_attached(action_engine_api, company, other_company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    base = f"/v1/company-actions/{action_company.uuid}/workflows"
    for workflow in (WorkflowFactory(company=other_company), WorkflowFactory(company=None)):
        response = action_engine_api.post(base, {"workflow": str(workflow.uuid)}, format="json")
        assert response.status_code == 400 and "workflow" in response.json()["errors"]
    assert not ActionCompanyWorkflow.objects.exists()


# --- modules ----------------------------------------------------------------------------------------


def test_modules_attach_detach_reorder(action_engine_api, company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    first, second = FormFactory(company=company, name="Short"), FormFactory(company=company, name="Long")
    base = f"/v1/company-actions/{action_company.uuid}/modules"
    modules = []
    for form in (first, second):
        response = action_engine_api.post(base, {"kind": "form", "target": str(form.uuid)}, format="json")
        assert response.status_code == 201, response.json()
        modules.append(response.json())
    assert modules[0]["target_name"] == "Short" and modules[1]["position"] == 1
    reordered = action_engine_api.post(
        f"{base}/reorder", {"modules": [modules[1]["uuid"], modules[0]["uuid"]]}, format="json"
    )
    assert reordered.status_code == 200
    assert [row["target"] for row in action_engine_api.get(base).json()] == [str(second.uuid), str(first.uuid)]
    assert action_engine_api.get(f"{base}/{modules[0]['uuid']}").json()["kind"] == "form"
    assert action_engine_api.delete(f"{base}/{modules[0]['uuid']}").status_code == 204
    assert len(action_engine_api.get(base).json()) == 1


@pytest.mark.parametrize("system", ["commerce", "content"])
def test_each_system_shows_its_own_kind(action_engine_api, company, system):
    action = ActionFactory(system=ActionSystemFactory(slug=system))
    action_company = ActionCompanyFactory(company=company, action=action)
    target = ProductFactory(company=company) if system == "commerce" else ContentFactory(company=company)
    kind = "product" if system == "commerce" else "content"
    base = f"/v1/company-actions/{action_company.uuid}/modules"
    assert action_engine_api.post(base, {"kind": kind, "target": str(target.uuid)}, format="json").status_code == 201
    form = FormFactory(company=company)
    response = action_engine_api.post(base, {"kind": "form", "target": str(form.uuid)}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    assert response.json()["type"].endswith("module_kind_not_allowed")


def test_module_of_another_company_or_duplicate_is_400(action_engine_api, company, other_company, forms_action):
    action_company = ActionCompanyFactory(company=company, action=forms_action)
    base = f"/v1/company-actions/{action_company.uuid}/modules"
    foreign = FormFactory(company=other_company)
    response = action_engine_api.post(base, {"kind": "form", "target": str(foreign.uuid)}, format="json")
    assert response.status_code == 400 and "target" in response.json()["errors"]
    mine = ModuleFactory(action_company=action_company).form
    duplicate = action_engine_api.post(base, {"kind": "form", "target": str(mine.uuid)}, format="json")
    assert duplicate.status_code == 400 and "target" in duplicate.json()["errors"]
    bad = action_engine_api.post(base, {"kind": "poster", "target": "x"}, format="json")
    assert bad.status_code == 400 and {"kind", "target"} <= set(bad.json()["errors"])
