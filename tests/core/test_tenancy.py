"""Tenant isolation on every resource of the three APIs: company B's key cannot list, read, change,
delete or reference company A's rows. Another company's object is a 404 (never a 403), and its uuid in a
payload is a 400 field error, the same as a uuid that does not exist."""
from dataclasses import dataclass, field

import pytest

from action_engine.choices import ModuleKind
from conftest import host_client
from salesassist.hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    EngagementFactory,
    FormFactory,
    ModuleFactory,
)
from tests.crm.factories import LeadFactory, LeadReceiverFactory, VisitorFactory
from tests.products.factories import ContentFactory, ProductFactory
from tests.workflows.factories import DeliveryFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Resource:
    """A collection on an API host, how to make one of company A's rows, and a harmless change."""

    host: str
    path: str
    make: object
    change: dict = field(default_factory=dict)
    writable: bool = True


RESOURCES = {
    "leads": Resource(CRM_API, "/v1/leads/", lambda c: LeadFactory(company=c), {"first_name": "Taken"}),
    "visitors": Resource(CRM_API, "/v1/visitors/", lambda c: VisitorFactory(company=c), writable=False),
    "lead-receivers": Resource(
        CRM_API, "/v1/lead-receivers/", lambda c: LeadReceiverFactory(company=c), {"name": "Taken"}
    ),
    "products": Resource(PRODUCTS_API, "/v1/products/", lambda c: ProductFactory(company=c), {"name": "Taken"}),
    "content": Resource(PRODUCTS_API, "/v1/content/", lambda c: ContentFactory(company=c), {"title": "Taken"}),
    "forms": Resource(ACTION_ENGINE_API, "/v1/forms/", lambda c: FormFactory(company=c), {"name": "Taken"}),
    "actions": Resource(
        ACTION_ENGINE_API, "/v1/actions/", lambda c: ActionFactory(company=c), {"name": "Taken"}
    ),
    "company-actions": Resource(
        ACTION_ENGINE_API, "/v1/company-actions/", lambda c: ActionCompanyFactory(company=c), {"name": "Taken"}
    ),
    "engagements": Resource(
        ACTION_ENGINE_API, "/v1/engagements/", lambda c: EngagementFactory(company=c), writable=False
    ),
    "workflows": Resource(
        ACTION_ENGINE_API, "/v1/workflows/", lambda c: WorkflowFactory(company=c), {"name": "Taken"}
    ),
    "deliveries": Resource(
        ACTION_ENGINE_API,
        "/v1/deliveries/",
        lambda c: DeliveryFactory(engagement=EngagementFactory(company=c)),
        writable=False,
    ),
}


@pytest.fixture
def intruder(other_api_key):
    """Company B's read-write key, one client per host."""
    return lambda host: host_client(host, other_api_key.token)


def _listed(client, path) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return {row["uuid"] for row in response.json()["results"]}


@pytest.mark.parametrize("name", list(RESOURCES))
def test_another_company_cannot_list_read_change_or_delete(name, company, intruder, api_key):
    resource = RESOURCES[name]
    row = resource.make(company)
    mine = host_client(resource.host, api_key.token)
    assert str(row.uuid) in _listed(mine, resource.path)  # the row is there for its own company

    client = intruder(resource.host)
    assert str(row.uuid) not in _listed(client, resource.path)
    detail = f"{resource.path}{row.uuid}"
    response = client.get(detail)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    for method, body in (("patch", resource.change), ("put", resource.change), ("delete", None)):
        response = getattr(client, method)(detail, body, format="json")
        assert response.status_code == (404 if resource.writable else 405), (method, response.content)

    row.refresh_from_db()
    assert getattr(row, "deleted_at", None) is None
    for key in resource.change:
        assert getattr(row, key) != "Taken"


def _action_of(company, system: str = "forms"):
    return ActionCompanyFactory(company=company, action=ActionFactory(system=ActionSystemFactory(slug=system)))


def _attach_module(kind: str, system: str):
    def build(company, row):
        body = {"kind": kind, "target": str(row.uuid)}
        return "post", f"/v1/company-actions/{_action_of(company, system).uuid}/modules", body

    return build


REFERENCES = {
    # name: (make company A's row, build company B's request from it, the field that must be refused)
    "form as a module": (
        lambda a: FormFactory(company=a),
        _attach_module("form", "forms"),
        "target",
    ),
    "product as a module": (
        lambda a: ProductFactory(company=a),
        _attach_module("product", "commerce"),
        "target",
    ),
    "content as a module": (
        lambda a: ContentFactory(company=a),
        _attach_module("content", "content"),
        "target",
    ),
    "workflow attached to a company action": (
        lambda a: WorkflowFactory(company=a),
        lambda b, row: ("post", f"/v1/company-actions/{_action_of(b).uuid}/workflows/", {"workflow": str(row.uuid)}),
        "workflow",
    ),
    "own action used for a company action": (
        lambda a: ActionFactory(company=a),
        lambda b, row: ("post", "/v1/company-actions", {"action": str(row.uuid)}),
        "action",
    ),
}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_another_companys_uuid_in_a_payload_is_a_400_field_error(name, company, other_company, intruder):
    make, build, field_name = REFERENCES[name]
    row = make(company)
    method, path, body = build(other_company, row)
    response = getattr(intruder(ACTION_ENGINE_API), method)(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field_name in response.json()["errors"]


@pytest.mark.parametrize(
    ("host", "path_of"),
    [
        (CRM_API, lambda ac, lead: f"/v1/leads/{lead.uuid}/feed"),
        (ACTION_ENGINE_API, lambda ac, lead: f"/v1/company-actions/{ac.uuid}/receivers"),
        (ACTION_ENGINE_API, lambda ac, lead: f"/v1/company-actions/{ac.uuid}/modules"),
        (ACTION_ENGINE_API, lambda ac, lead: f"/v1/company-actions/{ac.uuid}/workflows"),
        (ACTION_ENGINE_API, lambda ac, lead: f"/v1/actions/{ac.action.uuid}/workflows"),
    ],
)
def test_nested_routes_under_another_companys_row_are_404(company, intruder, host, path_of):
    action_company = ActionCompanyFactory(company=company, action=ActionFactory(company=company))
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM)
    lead = LeadFactory(company=company)
    EngagementFactory(company=company, action_company=action_company, lead=lead)
    client = intruder(host)
    path = path_of(action_company, lead)
    assert client.get(path).status_code == 404
    assert client.post(path.rstrip("/") + "/", {}, format="json").status_code in (404, 405)


def test_filtering_by_another_companys_uuids_finds_nothing(company, intruder):
    engagement = EngagementFactory(company=company)
    client = intruder(ACTION_ENGINE_API)
    for query in (f"lead={engagement.lead.uuid}", f"action={engagement.action_company.uuid}"):
        response = client.get(f"/v1/engagements?{query}")
        assert response.status_code == 200 and response.json()["results"] == []
