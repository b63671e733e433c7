"""api.crm: visitors (read), lead receivers (CRUD), companies/me."""
import pytest

from conftest import host_client
from crm.models import LeadReceiver
from salesassist.hosts import CRM_API
from tests.crm.factories import LeadFactory, LeadReceiverAttemptFactory, LeadReceiverFactory, VisitorFactory

pytestmark = pytest.mark.django_db


def test_visitors_are_listed_and_read_but_not_written(crm_api, company):
    lead = LeadFactory(company=company)
    visitor = VisitorFactory(company=company, lead=lead)
    VisitorFactory(company=company, lead=None)
    listing = crm_api.get(f"/v1/visitors?lead={lead.uuid}")
    assert listing.status_code == 200
    assert [row["uuid"] for row in listing.json()["results"]] == [str(visitor.uuid)]
    detail = crm_api.get(f"/v1/visitors/{visitor.uuid}/")
    assert detail.json()["lead"] == str(lead.uuid)
    assert crm_api.post("/v1/visitors", {}, format="json").status_code == 405
    assert crm_api.delete(f"/v1/visitors/{visitor.uuid}").status_code == 405
    assert crm_api.get("/v1/visitors?lead=nope").status_code == 400


def test_lead_receiver_crud(crm_api, company, staff_user):
    created = crm_api.post(
        "/v1/lead-receivers",
        {"name": "Website", "template": {"fields": {"email": "contact.email"}}, "default_owner": "staff"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["url"] == f"http://api.crm.localhost/v1/receivers/{body['uuid']}/leads"
    assert body["default_owner"] == "staff" and body["is_active"] is True
    receiver = LeadReceiver.objects.get(uuid=body["uuid"])
    assert receiver.company == company

    patched = crm_api.patch(f"/v1/lead-receivers/{receiver.uuid}", {"is_active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert crm_api.get("/v1/lead-receivers?is_active=false").json()["count"] == 1
    assert crm_api.get("/v1/lead-receivers?is_active=true").json()["count"] == 0

    assert crm_api.delete(f"/v1/lead-receivers/{receiver.uuid}").status_code == 204
    assert not LeadReceiver.objects.filter(pk=receiver.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "template": "email"}, "template"),
        ({"name": "ok", "default_owner": "ghost"}, "default_owner"),
        ({"name": "ok", "secret": "x"}, "secret"),
    ],
)
def test_lead_receiver_validation(crm_api, payload, field):
    response = crm_api.post("/v1/lead-receivers", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_receiver_that_received_calls_is_kept(crm_api, company):
    receiver = LeadReceiverFactory(company=company)
    LeadReceiverAttemptFactory(receiver=receiver, company=company)
    response = crm_api.delete(f"/v1/lead-receivers/{receiver.uuid}")
    assert response.status_code == 409
    assert response.json()["type"].endswith("receiver_in_use")
    assert LeadReceiver.objects.filter(pk=receiver.pk).exists()


def test_companies_me_is_the_callers_company(crm_api, company, other_company):
    response = crm_api.get("/v1/companies/me")
    assert response.status_code == 200
    assert response.json()["uuid"] == str(company.uuid)
    assert response.json()["slug"] == "acme"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"secret": "whsec_short"}, "secret"),
        ({"secret": "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=", "generate_secret": True}, "secret"),
        ({"secrets": "x"}, "secrets"),
    ],
    ids=["not a whsec_ secret", "both", "unknown field"],
)
def test_a_lead_receivers_secret_must_be_a_standard_webhooks_one(crm_api, company, body, field):
    receiver = LeadReceiverFactory(company=company)
    response = crm_api.post(f"/v1/lead-receivers/{receiver.uuid}/rotate-secret", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    receiver.refresh_from_db()
    assert receiver.secret == ""


def test_a_lead_receivers_own_secret_is_kept_and_none_removes_it(crm_api, company):
    receiver = LeadReceiverFactory(company=company)
    own = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    url = f"/v1/lead-receivers/{receiver.uuid}/rotate-secret"
    assert crm_api.post(url, {"secret": own}, format="json").json()["secret"] == own
    removed = crm_api.post(url, {}, format="json").json()
    assert (removed["secret"], removed["has_secret"]) == ("", False)


def test_a_read_only_key_cannot_set_a_lead_receivers_secret(read_only_key, company):
    receiver = LeadReceiverFactory(company=company)
    client = host_client(CRM_API, read_only_key.token)
    url = f"/v1/lead-receivers/{receiver.uuid}/rotate-secret"
    response = client.post(url, {"generate_secret": True}, format="json")
    assert response.status_code == 403
