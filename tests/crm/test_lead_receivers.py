"""Lead receivers: the raw attempt first, the template's mapping, dedupe within the company, errors kept."""

import json
import threading
import uuid

import pytest
from django.db import connection, connections

from conftest import host_client
from crm.models import Lead, LeadReceiverAttempt
from salesassist.hosts import CRM_API
from tests.crm.factories import LeadFactory, LeadReceiverFactory

TEMPLATE = {
    "fields": {"email": "contact.email", "first_name": "contact.name", "phone": "contact.phone"},
    "defaults": {"status": "contacted"},
}


@pytest.fixture
def receiver(company, staff_user):
    return LeadReceiverFactory(company=company, template=TEMPLATE, default_owner=staff_user, source="webinar")


def post(client, receiver, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/v1/receivers/{receiver.uuid}/leads", data=raw, content_type="application/json")


@pytest.mark.django_db
def test_a_lead_is_built_by_the_template(public_crm, receiver, staff_user):
    body = {
        "contact": {"email": "Ada@Example.com", "name": "Ada", "phone": "+44 20 7946 0000", "title": "CTO"},
        "utm": "x",
    }
    response = post(public_crm, receiver, body)
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(uuid=response.json()["lead"])
    assert response.json()["duplicate"] is False
    assert (lead.email, lead.first_name, lead.phone_normalized) == ("Ada@Example.com", "Ada", "+442079460000")
    assert (lead.status, lead.source, lead.owner) == ("contacted", "webinar", staff_user)
    assert lead.custom_fields == {"contact.title": "CTO", "utm": "x"}
    attempt = LeadReceiverAttempt.objects.get()
    assert (attempt.outcome, attempt.lead, str(attempt.uuid)) == ("processed", lead, response.json()["attempt"])


@pytest.mark.django_db
def test_explicit_custom_fields_and_ignoring_the_rest(public_crm, company):
    receiver = LeadReceiverFactory(
        company=company,
        template={"fields": {"email": "email"}, "custom_fields": {"plan": "meta.plan"}, "unmapped": "ignore"},
    )
    response = post(public_crm, receiver, {"email": "b@example.com", "meta": {"plan": "pro", "noise": 1}})
    assert response.status_code == 201
    assert Lead.objects.get().custom_fields == {"plan": "pro"}


@pytest.mark.django_db
def test_without_fields_each_lead_field_is_read_at_its_own_name(public_crm, company):
    receiver = LeadReceiverFactory(company=company, template={})
    response = post(public_crm, receiver, {"email": "c@example.com", "last_name": "Hopper"})
    assert response.status_code == 201
    assert Lead.objects.get().last_name == "Hopper"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "posted"),
    [
        ({"email": "ada@example.com"}, {"email": " ADA@example.com "}),
        ({"email": "", "phone": "+44 20 7946 0000"}, {"phone": "+44-20-7946-0000"}),
    ],
    ids=["email", "phone"],
)
def test_a_duplicate_updates_the_existing_lead(public_crm, receiver, company, existing, posted):
    lead = LeadFactory(company=company, first_name="Old", custom_fields={"keep": 1}, **existing)
    response = post(public_crm, receiver, {"contact": {**posted, "name": "New"}, "extra": "y"})
    assert response.status_code == 200, response.content
    assert response.json() == {"lead": str(lead.uuid), "duplicate": True, "attempt": response.json()["attempt"]}
    lead.refresh_from_db()
    assert lead.first_name == "New"
    assert lead.custom_fields == {"keep": 1, "extra": "y"}
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_template_defaults_only_fill_a_duplicates_empty_fields(public_crm, receiver, company):
    lead = LeadFactory(company=company, email="ada@example.com", status="qualified", source="")
    receiver.template = {**TEMPLATE, "defaults": {"status": "contacted", "source": "fair"}}
    receiver.save()
    assert post(public_crm, receiver, {"contact": {"email": "ada@example.com"}}).status_code == 200
    lead.refresh_from_db()
    assert (lead.status, lead.source) == ("qualified", "fair")


@pytest.mark.django_db
def test_a_posted_source_wins_over_the_receivers(public_crm, company):
    receiver = LeadReceiverFactory(company=company, template={}, source="webinar")
    response = post(public_crm, receiver, {"email": "d@example.com", "source": "ads"})
    assert response.status_code == 201, response.content
    assert Lead.objects.get().source == "ads"


@pytest.mark.django_db
def test_dedupe_is_within_the_company(public_crm, receiver, other_company):
    LeadFactory(company=other_company, email="ada@example.com")
    assert post(public_crm, receiver, {"contact": {"email": "ada@example.com"}}).status_code == 201
    assert Lead.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"contact": {"name": "No contact details"}}, {"email"}),
        ({"contact": {"email": "not-an-email"}}, {"email"}),
        ({"contact": {"email": "a@example.com", "phone": "12"}}, {"phone"}),
        ({"contact": {"email": "a@example.com", "name": {"nested": True}}}, {"first_name"}),
        ([1, 2, 3], {"body"}),
        ("{broken", {"body"}),
        ('{"contact":' * 3000 + "{}" + "}" * 3000, {"body"}),
        ('{"contact": {"email": "a@example.com", "x": ' + "[" * 500 + "]" * 500 + "}}", {"body"}),
        ('{"contact": {"email": "a@example.com", "name": "Ada\\u0000"}}', {"body"}),
        ('{"contact": {"email": "a@example.com", "name": "Ada\x00"}}', {"body"}),
    ],
    ids=[
        "no-email-or-phone",
        "bad-email",
        "short-phone",
        "not-a-string",
        "not-an-object",
        "malformed",
        "nested-past-the-parser",
        "nested-too-deep",
        "nul-escape",
        "nul-byte",
    ],
)
def test_bad_payloads_are_400_and_the_attempt_is_kept(public_crm, receiver, body, fields):
    response = post(public_crm, receiver, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == fields
    attempt = LeadReceiverAttempt.objects.get()
    assert attempt.outcome == "failed" and attempt.error["errors"] == response.json()["errors"]
    assert str(attempt.uuid) == response.json()["attempt"]
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_status_defaults_are_validated(public_crm, company):
    receiver = LeadReceiverFactory(company=company, template={"fields": {"email": "e"}, "defaults": {"status": "vip"}})
    response = post(public_crm, receiver, {"e": "d@example.com"})
    assert response.status_code == 400 and "status" in response.json()["errors"]


@pytest.mark.django_db
def test_secrets_in_headers_are_not_stored(public_crm, receiver):
    public_crm.post(
        f"/v1/receivers/{receiver.uuid}/leads",
        data=json.dumps({"contact": {"email": "e@example.com"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer secret",
        HTTP_X_SOURCE="crm-tool",
    )
    headers = LeadReceiverAttempt.objects.get().headers
    assert "authorization" not in headers and headers["x-source"] == "crm-tool"


@pytest.mark.django_db
def test_inactive_or_unknown_receiver_is_404_and_stores_nothing(public_crm, receiver):
    receiver.is_active = False
    receiver.save()
    assert post(public_crm, receiver, {"contact": {"email": "a@example.com"}}).status_code == 404
    assert public_crm.post(f"/v1/receivers/{uuid.uuid4()}/leads", {}, format="json").status_code == 404
    assert LeadReceiverAttempt.objects.count() == 0


@pytest.mark.django_db
def test_email_and_phone_of_two_different_leads_is_a_conflict(public_crm, receiver, company):
    LeadFactory(company=company, email="ada@example.com", phone="")
    LeadFactory(company=company, email="other@example.com", phone="+1 555 0100")
    response = post(public_crm, receiver, {"contact": {"email": "ada@example.com", "phone": "+1 555 0100"}})
    assert response.status_code == 409
    assert LeadReceiverAttempt.objects.get().outcome == "failed"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_for_one_email_make_one_lead(company, staff_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    receiver = LeadReceiverFactory(company=company, template=TEMPLATE)
    barrier = threading.Barrier(4)
    statuses = []

    def call():
        try:
            client = host_client(CRM_API)
            barrier.wait(timeout=10)
            statuses.append(post(client, receiver, {"contact": {"email": "race@example.com"}}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert Lead.objects.filter(email_normalized="race@example.com").count() == 1
