"""The CSV exports of leads (crm host) and engagements (action-engine host): filtered like their lists,
message fields as columns, streamed in constant memory."""
import csv
import io
import tracemalloc

import pytest
from django.db import connection

from action_engine.choices import Stage
from action_engine.models import Engagement, Message
from crm.models import Lead
from crm.services import lead_normalize
from salesassist.core.csv_export import CSV_CHUNK_BYTES
from tests.action_engine.factories import ActionCompanyFactory, EngagementFactory
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db

MANY = 100_000
# What consuming a streamed export of MANY rows may hold at its peak (tracemalloc, Python allocations): far less
# than the file itself, which each test checks is several times larger.
PEAK_BOUND = 8 * 1024 * 1024


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def consumed_with_peak(response) -> tuple[int, int, int]:
    """Bytes and lines of the streamed body, and the peak of memory allocated while consuming it. The body comes
    in chunks of about CSV_CHUNK_BYTES (a write per chunk, not per row)."""
    tracemalloc.start()
    try:
        size = lines = chunks = 0
        for chunk in response.streaming_content:
            assert len(chunk) < CSV_CHUNK_BYTES + 4096
            size += len(chunk)
            lines += chunk.count(b"\n")
            chunks += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert chunks <= size // CSV_CHUNK_BYTES + 1
    return size, lines, peak


def test_engagements_export_flattens_messages_and_filters_like_the_list(action_engine_api, company):
    action_company = ActionCompanyFactory(company=company)
    lead = LeadFactory(company=company, email="ada@example.com")
    opened = EngagementFactory(action_company=action_company, lead=lead, stage=Stage.OPENED)
    opened.message.body = {}
    opened.message.save()
    submitted = EngagementFactory(action_company=action_company, lead=lead, stage=Stage.SUBMITTED)
    submitted.message.body = {"data": {"email": "ada@example.com", "tags": ["a", "b"]}, "ok": True, "formula": "=1+1"}
    submitted.message.save()
    EngagementFactory(stage=Stage.SUBMITTED)  # another company's

    response = action_engine_api.get("/v1/engagements/export.csv")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(response)
    assert [row["uuid"] for row in rows] == [str(opened.uuid), str(submitted.uuid)]
    assert rows[1]["message.data.email"] == "ada@example.com"
    assert (rows[1]["message.data.tags.0"], rows[1]["message.data.tags.1"]) == ("a", "b")
    assert (rows[1]["message.ok"], rows[1]["message.formula"]) == ("true", "'=1+1")
    assert rows[0]["message.data.email"] == "" and rows[1]["lead_email"] == "ada@example.com"

    only_submitted = read_csv(action_engine_api.get("/v1/engagements/export.csv", {"stage": "submitted"}))
    assert [row["uuid"] for row in only_submitted] == [str(submitted.uuid)]
    assert action_engine_api.get("/v1/engagements/export.csv", {"stage": "nope"}).status_code == 400


def test_leads_export_filters_like_the_list(crm_api, company, other_company):
    ada = LeadFactory(company=company, email="ada@example.com", first_name="Ada", custom_fields={"size": "50"})
    LeadFactory(company=company, email="bob@example.com", status="won")
    LeadFactory(company=other_company, email="eve@example.com")

    rows = read_csv(crm_api.get("/v1/leads/export.csv", {"status": "new"}))

    assert [row["email"] for row in rows] == ["ada@example.com"]
    assert rows[0]["uuid"] == str(ada.uuid) and rows[0]["custom_fields"] == '{"size": "50"}'
    assert len(read_csv(crm_api.get("/v1/leads/export.csv"))) == 2


def _many_submitted_engagements(*, company, action_company, lead) -> None:
    """MANY engagements, each with its message: one INSERT … SELECT on PostgreSQL (the ORM's bulk_create takes
    longer than the export it prepares), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        messages = Message.objects.bulk_create(
            [Message(company=company, body={"data": {"email": f"lead{n}@example.com", "n": n}}) for n in range(MANY)],
            batch_size=5000,
        )
        Engagement.objects.bulk_create(
            [
                Engagement(
                    company=company, action_company=action_company, lead=lead, stage=Stage.SUBMITTED, message=message
                )
                for message in messages
            ],
            batch_size=5000,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH m AS (
                INSERT INTO {Message._meta.db_table} (uuid, created_at, updated_at, company_id, body)
                SELECT gen_random_uuid(), now(), now(), %(company)s,
                       jsonb_build_object('data', jsonb_build_object('email', 'lead' || n || '@example.com', 'n', n))
                FROM generate_series(0, %(many)s - 1) AS n
                RETURNING id, created_at
            )
            INSERT INTO {Engagement._meta.db_table} (
                uuid, created_at, updated_at, company_id, action_company_id, lead_id, stage, previous_stage,
                message_id, idempotency_key, request_fingerprint, meta
            )
            SELECT gen_random_uuid(), m.created_at, m.created_at, %(company)s, %(action_company)s, %(lead)s,
                   %(stage)s, '', m.id, '', '', '{{}}'::jsonb
            FROM m
            """,
            {
                "company": company.pk,
                "action_company": action_company.pk,
                "lead": lead.pk,
                "stage": Stage.SUBMITTED,
                "many": MANY,
            },
        )


@pytest.mark.timeout(900)
def test_engagements_export_of_many_rows_streams_in_constant_memory(action_engine_api, company):
    action_company = ActionCompanyFactory(company=company)
    lead = LeadFactory(company=company)
    _many_submitted_engagements(company=company, action_company=action_company, lead=lead)

    response = action_engine_api.get("/v1/engagements/export.csv")
    size, lines, peak = consumed_with_peak(response)

    assert lines == MANY + 1
    assert size > 2 * PEAK_BOUND
    assert peak < PEAK_BOUND, f"peak {peak} bytes while streaming {size}"


@pytest.mark.timeout(900)
def test_leads_export_of_many_rows_streams_in_constant_memory(crm_api, company):
    leads = [Lead(company=company, email=f"lead{n}@example.com", first_name="Lead", last_name=str(n)) for n in range(MANY)]
    Lead.objects.bulk_create([lead_normalize(lead=lead) for lead in leads], batch_size=5000)
    del leads

    response = crm_api.get("/v1/leads/export.csv")
    size, lines, peak = consumed_with_peak(response)

    assert lines == MANY + 1
    assert size > 1.5 * PEAK_BOUND
    assert peak < PEAK_BOUND, f"peak {peak} bytes while streaming {size}"
