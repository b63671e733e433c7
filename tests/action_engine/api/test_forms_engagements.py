"""api.action-engine: forms (JSON Schema validated on write) and engagements (read, filters, cursor)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from action_engine.choices import Stage
from action_engine.models import Engagement, Form
from tests.action_engine.factories import CONTACT_FORM_SCHEMA, ActionCompanyFactory, EngagementFactory, ModuleFactory
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_form_crud(action_engine_api, company):
    created = action_engine_api.post(
        "/v1/forms", {"name": "Contact", "schema": CONTACT_FORM_SCHEMA, "submit_label": "Send"}, format="json"
    )
    assert created.status_code == 201, created.json()
    form = Form.objects.get(uuid=created.json()["uuid"])
    assert form.company == company and form.schema == CONTACT_FORM_SCHEMA
    schema = {"type": "object", "properties": {"age": {"type": "integer", "minimum": 18}}}
    patched = action_engine_api.patch(f"/v1/forms/{form.uuid}", {"schema": schema}, format="json")
    assert patched.status_code == 200 and patched.json()["schema"] == schema
    assert action_engine_api.get("/v1/forms?search=contact").json()["count"] == 1
    assert action_engine_api.delete(f"/v1/forms/{form.uuid}").status_code == 204
    assert Form.all_objects.get(pk=form.pk).deleted_at is not None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array"},
        {"properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {"a": {"type": "strang"}}},
        {"type": "object", "required": "email"},
        {"type": "object", "properties": {"a": {"minLength": -1}}},
        {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1/latest/meta-data"}}},
        {"type": "object", "$defs": {"b": {"$ref": "file:///etc/passwd"}}},
        {"type": "object", "$ref": "#"},
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
        ["type", "object"],
        "object",
    ],
)
def test_invalid_schemas_are_refused(action_engine_api, schema):
    response = action_engine_api.post("/v1/forms", {"name": "Bad", "schema": schema}, format="json")
    assert response.status_code == 400, response.content
    assert "schema" in response.json()["errors"]
    assert not Form.objects.exists()


def test_form_other_validation(action_engine_api):
    response = action_engine_api.post(
        "/v1/forms", {"name": "x" * 201, "schema": CONTACT_FORM_SCHEMA, "submit_label": "y" * 61}, format="json"
    )
    assert set(response.json()["errors"]) == {"name", "submit_label"}


def test_form_shown_by_an_action_cannot_be_deleted(action_engine_api, company):
    module = ModuleFactory(action_company=ActionCompanyFactory(company=company))
    assert action_engine_api.delete(f"/v1/forms/{module.form.uuid}").status_code == 409


def _engagements(company, count, *, lead=None, action_company=None, stage=Stage.OPENED, start=None):
    lead = lead or LeadFactory(company=company)
    action_company = action_company or ActionCompanyFactory(company=company)
    start = start or timezone.now() - timedelta(days=1)
    rows = []
    for index in range(count):
        engagement = EngagementFactory(company=company, action_company=action_company, lead=lead, stage=stage)
        Engagement.objects.filter(pk=engagement.pk).update(created_at=start + timedelta(minutes=index))
        rows.append(engagement)
    return rows[::-1]


def test_engagements_list_filters_and_detail(action_engine_api, company):
    start = timezone.now() - timedelta(days=3)
    lead = LeadFactory(company=company)
    action_company = ActionCompanyFactory(company=company)
    opened = _engagements(company, 2, lead=lead, action_company=action_company, start=start)
    submitted = _engagements(company, 2, stage=Stage.SUBMITTED, start=start + timedelta(days=1))

    def uuids(query=""):
        response = action_engine_api.get(f"/v1/engagements?{query}")
        assert response.status_code == 200, response.content
        return [row["uuid"] for row in response.json()["results"]]

    assert uuids() == [str(e.uuid) for e in submitted + opened]
    assert uuids(f"lead={lead.uuid}") == [str(e.uuid) for e in opened]
    assert uuids(f"action={action_company.uuid}") == [str(e.uuid) for e in opened]
    assert uuids("stage=submitted") == [str(e.uuid) for e in submitted]
    since = (start + timedelta(days=1)).isoformat().replace("+", "%2B")
    assert uuids(f"since={since}") == [str(e.uuid) for e in submitted]
    assert uuids(f"until={since}") == [str(e.uuid) for e in opened]

    engagement = opened[0]
    detail = action_engine_api.get(f"/v1/engagements/{engagement.uuid}").json()
    assert detail["lead"] == str(lead.uuid) and detail["action"] == str(action_company.uuid)
    assert detail["message"] == engagement.message.body and detail["visitor"] == str(engagement.visitor.uuid)
    assert action_engine_api.post("/v1/engagements", {}, format="json").status_code == 405
    for bad in ("lead=x", "stage=flying", "since=tomorrow"):
        assert action_engine_api.get(f"/v1/engagements?{bad}").status_code == 400


def test_engagements_are_cursor_paged(action_engine_api, company):
    expected = [str(e.uuid) for e in _engagements(company, 5)]
    seen, url = [], "/v1/engagements?page_size=2"
    while url:
        body = action_engine_api.get(url).json()
        seen += [row["uuid"] for row in body["results"]]
        url = body["next"]
    assert seen == expected
    assert action_engine_api.get("/v1/engagements?cursor=garbage").status_code == 400
