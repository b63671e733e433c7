"""api.action-engine: action types/systems/data types (read), actions (global read-only, own writable),
and the default workflows of a company's own actions."""
import pytest

from action_engine.models import Action, ActionSystem, ActionType
from tests.action_engine.factories import ActionCompanyFactory, ActionFactory
from tests.workflows.factories import ActionWorkflowFactory, WorkflowFactory
from workflows.models import ActionWorkflow

pytestmark = pytest.mark.django_db


def test_action_systems_show_their_pipeline_and_module_kinds(action_engine_api):
    response = action_engine_api.get("/v1/action-systems?ordering=slug")
    assert response.status_code == 200
    systems = {row["slug"]: row for row in response.json()["results"]}
    assert systems["forms"]["pipeline"] == ["sent", "opened", "submitted"]
    assert systems["forms"]["result_stage"] == "submitted"
    assert systems["forms"]["module_kinds"] == ["form"]
    assert systems["commerce"]["pipeline"] == ["sent", "opened", "purchased"]
    assert systems["content"]["module_kinds"] == ["content"]
    one = ActionSystem.objects.get(slug="content")
    assert action_engine_api.get(f"/v1/action-systems/{one.uuid}").json()["pipeline"][-1] == "downloaded"


@pytest.mark.parametrize("path", ["/v1/action-types", "/v1/action-data-types"])
def test_reference_tables_are_read_only(action_engine_api, path):
    listing = action_engine_api.get(path)
    assert listing.status_code == 200 and listing.json()["count"] >= 2
    assert action_engine_api.post(path, {"slug": "x", "name": "X"}, format="json").status_code == 405


def _action_payload(**overrides):
    payload = {
        "name": "Demo request",
        "slug": "demo-request",
        "type": str(ActionType.objects.get(slug="form").uuid),
        "system": str(ActionSystem.objects.get(slug="forms").uuid),
        "config": {"theme": "dark"},
    }
    payload.update(overrides)
    return payload


def test_company_creates_and_changes_its_own_action(action_engine_api, company):
    created = action_engine_api.post("/v1/actions", _action_payload(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["is_global"] is False and body["data_type"] is None
    action = Action.objects.get(uuid=body["uuid"])
    assert action.company == company

    patched = action_engine_api.patch(f"/v1/actions/{action.uuid}", {"name": "Book a demo"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "Book a demo"
    assert action_engine_api.get("/v1/actions?is_global=false").json()["count"] == 1
    assert action_engine_api.delete(f"/v1/actions/{action.uuid}").status_code == 204
    assert Action.all_objects.get(pk=action.pk).deleted_at is not None


def test_global_actions_are_visible_and_read_only(action_engine_api):
    global_action = ActionFactory(company=None, name="Global form")
    ActionFactory(company=None, is_published=False, name="Hidden global")
    listing = action_engine_api.get("/v1/actions?is_global=true")
    assert [row["name"] for row in listing.json()["results"]] == ["Global form"]
    assert listing.json()["results"][0]["is_global"] is True
    for method in ("put", "patch"):
        response = getattr(action_engine_api, method)(
            f"/v1/actions/{global_action.uuid}", _action_payload(), format="json"
        )
        assert response.status_code == 403
        assert response.json()["type"].endswith("global_action")
    assert action_engine_api.delete(f"/v1/actions/{global_action.uuid}").status_code == 403
    global_action.refresh_from_db()
    assert global_action.deleted_at is None and global_action.name == "Global form"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "not a slug"}, "slug"),
        ({"type": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "type"),
        ({"system": "forms"}, "system"),
        ({"config": ["a"]}, "config"),
        ({"company": "x"}, "company"),
        ({"is_global": True}, "is_global"),
    ],
)
def test_action_validation(action_engine_api, overrides, field):
    response = action_engine_api.post("/v1/actions", _action_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_own_slug_must_be_unique(action_engine_api, company):
    ActionFactory(company=company, slug="demo-request")
    response = action_engine_api.post("/v1/actions", _action_payload(), format="json")
    assert response.status_code == 400 and "slug" in response.json()["errors"]


def test_an_action_in_use_cannot_be_deleted(action_engine_api, company):
    action = ActionFactory(company=company)
    ActionCompanyFactory(company=company, action=action)
    assert action_engine_api.delete(f"/v1/actions/{action.uuid}").status_code == 409


def test_default_workflows_of_an_own_action(action_engine_api, company):
    action = ActionFactory(company=company)
    first, second = WorkflowFactory(company=company, name="A"), WorkflowFactory(company=company, name="B")
    base = f"/v1/actions/{action.uuid}/workflows"
    for workflow in (first, second):
        response = action_engine_api.post(f"{base}/", {"workflow": str(workflow.uuid)}, format="json")
        assert response.status_code == 201, response.json()
    assert [row["name"] for row in action_engine_api.get(base).json()] == ["A", "B"]

    reordered = action_engine_api.post(
        f"{base}/reorder", {"workflows": [str(second.uuid), str(first.uuid)]}, format="json"
    )
    assert reordered.status_code == 200
    assert [row["name"] for row in reordered.json()] == ["B", "A"]
    assert [row["position"] for row in reordered.json()] == [0, 1]

    again = action_engine_api.post(base, {"workflow": str(first.uuid)}, format="json")
    assert again.status_code == 400 and "workflow" in again.json()["errors"]
    assert action_engine_api.delete(f"{base}/{first.uuid}").status_code == 204
    assert list(ActionWorkflow.objects.filter(action=action).values_list("workflow", flat=True)) == [second.pk]


def test_default_workflows_of_a_global_action_are_admin_only(action_engine_api, company):
    action = ActionFactory(company=None)
    ActionWorkflowFactory(action=action)
    base = f"/v1/actions/{action.uuid}/workflows"
    assert action_engine_api.get(base).status_code == 403
    workflow = WorkflowFactory(company=company)
    assert action_engine_api.post(base, {"workflow": str(workflow.uuid)}, format="json").status_code == 403


def test_workflow_reorder_must_list_each_attached_one_once(action_engine_api, company):
    action = ActionFactory(company=company)
    workflow = WorkflowFactory(company=company)
    ActionWorkflowFactory(action=action, workflow=workflow)
    response = action_engine_api.post(
        f"/v1/actions/{action.uuid}/workflows/reorder", {"workflows": [str(workflow.uuid)] * 2}, format="json"
    )
    assert response.status_code == 400 and "workflows" in response.json()["errors"]
