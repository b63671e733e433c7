"""Leads in bulk: CSV or JSON lines, stored first, each row mapped and de-duplicated like a lead receiver's call."""
import pytest

from crm.models import Lead, LeadImport
from salesassist.core.inbound.models import InboundOutcome
from tests.crm.factories import LeadFactory, LeadReceiverFactory

pytestmark = pytest.mark.django_db

URL = "/v1/leads/import"


def post_csv(client, text: str, **query):
    suffix = "?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else ""
    return client.post(URL + suffix, data=text, content_type="text/csv")


def test_csv_rows_are_created_updated_unchanged_or_refused_each_on_its_own(crm_api, company):
    existing = LeadFactory(company=company, email="grace@example.com", first_name="Grace", last_name="Hopper")
    text = (
        "email,first_name,last_name,phone,size\n"
        "ada@example.com,Ada,Lovelace,+44 20 7946 0000,50\n"
        "GRACE@example.com,Grace,Hopper,,\n"
        "grace@example.com,Grace,Murray,,\n"
        "not-an-email,Bad,Row,,\n"
    )

    response = post_csv(crm_api, text)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert [row["outcome"] for row in answer["results"]] == ["created", "unchanged", "updated", "error"]
    assert (answer["created"], answer["updated"], answer["unchanged"], answer["errors"]) == (1, 1, 1, 1)
    assert answer["results"][3]["problems"] == {"email": ["Enter a valid email address."]}
    assert answer["results"][1]["lead"] == str(existing.uuid)
    ada = Lead.objects.get(email="ada@example.com")
    assert ada.custom_fields == {"size": "50"} and ada.phone_normalized == "+442079460000"
    existing.refresh_from_db()
    assert existing.last_name == "Murray"
    stored = LeadImport.objects.get(uuid=answer["uuid"])
    assert (stored.outcome, stored.body, stored.created_count, stored.error_count) == (
        InboundOutcome.PROCESSED,
        text,
        1,
        1,
    )
    assert "authorization" not in stored.headers


def test_json_lines_are_mapped_by_a_lead_receivers_template(crm_api, company):
    receiver = LeadReceiverFactory(
        company=company, source="fair", template={"fields": {"email": "contact.mail"}, "unmapped": "ignore"}
    )
    lines = '{"contact": {"mail": "ada@example.com"}, "junk": 1}\n\n[1, 2]\n'

    response = crm_api.post(f"{URL}?receiver={receiver.uuid}", data=lines, content_type="application/x-ndjson")

    assert response.status_code == 200, response.content
    assert [row["outcome"] for row in response.json()["results"]] == ["created", "error"]
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.custom_fields) == ("ada@example.com", "fair", {})
    assert LeadImport.objects.get().receiver == receiver


def test_more_rows_than_allowed_is_a_422_and_the_upload_is_kept_failed(crm_api, settings, monkeypatch):
    monkeypatch.setattr("crm.services.lead_imports.LEAD_IMPORT_MAX_ROWS", 2)
    response = post_csv(crm_api, "email\na@example.com\nb@example.com\nc@example.com\n")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:salesassist:problem:lead_import_too_many_rows"
    assert LeadImport.objects.get().outcome == InboundOutcome.FAILED
    assert not Lead.objects.exists()


def test_many_rows_in_one_call(crm_api, company):
    LeadFactory(company=company, email="lead7@example.com")
    text = "email\n" + "".join(f"lead{n}@example.com\n" for n in range(500))
    response = post_csv(crm_api, text)
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["unchanged"]) == (499, 1)
    assert Lead.objects.count() == 500


def test_an_upload_may_be_larger_than_other_requests_up_to_its_own_limit(crm_api, company, settings):
    text = "email\n" + "".join(f"lead{n}@example.com\n" for n in range(200))  # about 4 KB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.LEAD_IMPORT_MAX_BYTES = 8 * 1024
    response = post_csv(crm_api, text)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 200

    settings.LEAD_IMPORT_MAX_BYTES = 2 * 1024
    too_large = post_csv(crm_api, text.replace("lead", "other"))
    assert too_large.status_code == 413 and too_large["Content-Type"] == "application/problem+json"
    assert not Lead.objects.filter(email__startswith="other").exists()


def test_the_rows_leads_are_looked_up_at_once_not_row_by_row(crm_api, company, django_assert_max_num_queries):
    LeadFactory(company=company, email="lead7@example.com")
    text = "email\n" + "".join(f"lead{n}@example.com\n" for n in range(100))
    # Per row: three nested savepoints (row, upsert, save: 6 statements) and the INSERT. Once for all rows: the
    # lookup of their leads and of the company's lead.created workflows; and the request's own few. Looking
    # either up per row, as before, is 100 more each.
    with django_assert_max_num_queries(7 * 100 + 15):
        response = post_csv(crm_api, text)
    assert (response.json()["created"], response.json()["unchanged"]) == (99, 1)


def test_bad_uploads_are_refused(crm_api, read_only_key, other_company):
    assert crm_api.post(URL, data="{}", content_type="application/json").status_code == 415
    assert crm_api.post(URL, data="{bad\n", content_type="application/x-ndjson").status_code == 400
    other = LeadReceiverFactory(company=other_company)
    assert post_csv(crm_api, "email\na@example.com\n", receiver=other.uuid).status_code == 400
    from conftest import host_client
    from salesassist.hosts import CRM_API

    read_only = host_client(CRM_API, read_only_key.token)
    assert post_csv(read_only, "email\na@example.com\n").status_code == 403
    assert not Lead.objects.exists()


def test_an_empty_or_malformed_receiver_is_a_400(crm_api):
    assert crm_api.post(f"{URL}?receiver=", data="email\na@example.com\n", content_type="text/csv").status_code == 400
    assert crm_api.post(f"{URL}?receiver=12", data="email\na@example.com\n", content_type="text/csv").status_code == 400
    assert not Lead.objects.exists()


def test_no_body_is_a_400(crm_api):
    assert crm_api.post(URL).status_code == 400
