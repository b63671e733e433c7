"""Benchmark: how one company's history grows to 10^5, 10^6, 10^7 engagements (docs/scaling.md reads its table).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./dev bench scale --sizes 100000,1000000,10000000
    ./dev bench scale --sizes 20000,100000 --seconds 4 --reps 5       # a quick smoke run

It creates its own PostgreSQL database (`--db-name`) on the server of DATABASE_URL, migrates it, then grows one
company, size after size, to N engagements with N messages, N deliveries of one workflow and N delivery attempts,
and the N/10 leads, visitors and pipeline states (LeadActionState) they imply, and N/10 raw receiver calls and
N/10 raw lead receiver calls, spread over the last 365 days (each lead: 10 engagements within two hours; half
stay sent, 30% reach opened, 20% submitted). Loading is set-based SQL (INSERT ... SELECT generate_series, ids
given, no per-row FK triggers: session_replication_role=replica) with the tables' secondary indexes dropped
and then built again from their own definitions (as the migrations made them).

At each size it measures, through a real gunicorn on 127.0.0.1 (DEBUG off, an API key):
- ingest: engagements/s through POST /v1/public/engagements against the one-INSERT baseline endpoint
  (bench/engagements.py's phases, alternated), and their ratio;
- the feed's first page (api.crm/v1/leads/{uuid}/feed) of a lead, the board's first page
  (api.action-engine/v1/company-actions/{uuid}/leads), all and "opened, not submitted", and the funnel over
  90 days bucketed weekly in Europe/Paris: medians of --reps;
- the engagement and lead CSV exports: rows/s read for up to --seconds (and the time to the first row);
and in process:
- retention (crm.services.retention, the real rules): each rule run for --seconds with its default settings
  and RETENTION_BATCH_SIZE rows a transaction: ms per batch, rows/s and the rows it still has to do;
- rows, bytes per row of heap (with TOAST), of indexes, and in all, of each big table.

Prints one table, sizes as columns (again after each size, so a long run keeps what it measured). The
database stays for --skip-to reuse unless --drop.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BENCH_DIR))

from common import (
    app_env,
    bench_database_drop,
    free_port,
    gunicorn_stop,
    in_process_database,
    secondary_indexes_drop,
    start_gunicorn,
)
from common import baseline_request as common_baseline_request
from common import engagement_request as common_engagement_request
from engagements import merged, run_phase

BIG_TABLES = (
    "action_engine_engagement",
    "action_engine_message",
    "workflows_delivery",
    "workflows_deliveryattempt",
    "action_engine_leadactionstate",
    "crm_lead",
    "crm_visitor",
    "action_engine_receivercall",
    "crm_leadreceiverattempt",
)
SLICE = 500_000  # engagements per statement: bounded memory per INSERT


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="engagement counts, ascending, comma separated")
    parser.add_argument("--reps", type=int, default=15, help="timed requests per latency")
    parser.add_argument("--seconds", type=float, default=8.0, help="per ingest phase, export and retention rule")
    parser.add_argument("--clients", type=int, default=4, help="concurrent ingest clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--db-name", default="salesassist_bench_scale")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args(argv)


def setup_company() -> dict:
    """The company, its forms action, a webhook workflow on it, a receiver, a lead receiver and an API key."""
    from django.core.management import call_command

    from action_engine.choices import ModuleKind
    from action_engine.models import (
        Action,
        ActionCompanyReceiver,
        ActionCompanySystemModule,
        ActionSystem,
        ActionType,
        Form,
    )
    from action_engine.services import action_company_create
    from crm.models import Company, LeadReceiver
    from crm.services import api_key_create
    from workflows.models import ActionCompanyWorkflow, Workflow

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="Scale", slug="scale")
    action = Action.objects.create(
        name="Signup",
        slug="signup",
        type=ActionType.objects.get(slug="form"),
        system=ActionSystem.objects.get(slug="forms"),
    )
    action_company = action_company_create(company=company, action=action, name="Signup")
    form = Form.objects.create(
        company=company,
        name="Signup",
        schema={
            "type": "object",
            "required": ["email"],
            "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
        },
    )
    ActionCompanySystemModule.objects.create(action_company=action_company, kind=ModuleKind.FORM, form=form)
    # No worker runs: the deliveries that live ingest fans out stay pending, as the outbox keeps them.
    workflow = Workflow.objects.create(company=company, name="CRM hook", config={"url": "https://hooks.example/x"})
    ActionCompanyWorkflow.objects.create(action_company=action_company, workflow=workflow)
    receiver = ActionCompanyReceiver.objects.get(action_company=action_company, is_active=True)
    lead_receiver = LeadReceiver.objects.create(company=company, name="Fair", secret="s" * 32)
    _, token = api_key_create(company=company, name="bench")
    return {
        "company": company,
        "action_company": action_company,
        "workflow": workflow.pk,
        "receiver": receiver.pk,
        "lead_receiver": lead_receiver.pk,
        "token": token,
    }


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return cursor.fetchone()[0]


# One slice of a step: engagements g = first .. last (1-based within the step), lead n = ceil(g / 10), each
# row's id = its table's base + its number within the step. Engagement k = (g - 1) % 10 of a lead is sent
# (k = 0), opened (k 1-3) or submitted (k >= 4), capped at the lead's furthest stage r.
SLICE_SQL = {
    "action_engine_message": """
        INSERT INTO action_engine_message (id, uuid, created_at, updated_at, company_id, body)
        SELECT %(message)s + g, gen_random_uuid(), at, at, %(company)s,
               jsonb_build_object('data', jsonb_build_object('email', 'lead' || n || '@scale.example',
                                                             'name', 'Lead ' || n, 'step', k))
        FROM rows""",
    "action_engine_engagement": """
        INSERT INTO action_engine_engagement (id, uuid, created_at, updated_at, company_id, action_company_id,
            lead_id, visitor_id, receiver_id, stage, previous_stage, message_id, idempotency_key,
            request_fingerprint, meta)
        SELECT %(engagement)s + g, gen_random_uuid(), at, at, %(company)s, %(action)s, %(lead)s + n,
               %(visitor)s + n, NULL, (ARRAY['sent', 'opened', 'submitted'])[1 + rank],
               CASE WHEN k = 0 THEN '' ELSE (ARRAY['sent', 'opened', 'submitted'])[1 + previous_rank] END,
               %(message)s + g, '', '', '{}'
        FROM rows""",
    "workflows_delivery": """
        INSERT INTO workflows_delivery (id, uuid, created_at, updated_at, company_id, workflow_id, event_type,
            engagement_id, lead_id, payload, status, attempts, scheduled_attempts, next_attempt_at, leased_until,
            lease_token, enqueued_at, last_status_code, last_error, last_duration_ms, succeeded_at)
        SELECT %(delivery)s + g, gen_random_uuid(), at, at + interval '1 second', %(company)s, %(workflow)s,
               'engagement.' || (ARRAY['sent', 'opened', 'submitted'])[1 + rank], %(engagement)s + g,
               %(lead)s + n, NULL, 'succeeded', 1, 1, NULL, NULL, NULL, at, 200, '', 120, at + interval '1 second'
        FROM rows""",
    "workflows_deliveryattempt": """
        INSERT INTO workflows_deliveryattempt (id, uuid, created_at, updated_at, delivery_id, number, is_manual,
            request_url, request_headers, request_body, response_status, response_headers, response_body,
            duration_ms, error_class, error_message, succeeded)
        SELECT %(attempt)s + g, gen_random_uuid(), at + interval '1 second', at + interval '1 second',
               %(delivery)s + g, 1, false, 'https://hooks.example/x',
               '{"Content-Type": "application/json", "X-Signature": "[redacted]"}',
               jsonb_build_object('type', 'engagement.submitted', 'id', gen_random_uuid(),
                   'data', jsonb_build_object('lead', jsonb_build_object('email', 'lead' || n || '@scale.example',
                       'first_name', 'Lead', 'last_name', n::text), 'stage', 'submitted',
                       'message', jsonb_build_object('email', 'lead' || n || '@scale.example'))
               )::text,
               200, '{"Content-Type": "text/plain"}', 'ok', 120, '', '', true
        FROM rows""",
}
ROWS_CTE = """
    WITH rows AS (
        SELECT g, n, k, rank, CASE WHEN k = 0 THEN 0 ELSE LEAST(CASE WHEN k - 1 = 0 THEN 0 WHEN k - 1 < 4 THEN 1
                                                                  ELSE 2 END, r) END AS previous_rank,
               now() - interval '365 days' + (n * 31536000.0 / %(leads)s) * interval '1 second'
                   + k * interval '10 minutes' - interval '2 hours' AS at
        FROM (
            SELECT g, n, k, r, LEAST(CASE WHEN k = 0 THEN 0 WHEN k < 4 THEN 1 ELSE 2 END, r) AS rank
            FROM (
                SELECT g, (g + 9) / 10 AS n, (g - 1) %% 10 AS k,
                       CASE WHEN ((g + 9) / 10) %% 10 < 5 THEN 0 WHEN ((g + 9) / 10) %% 10 < 8 THEN 1 ELSE 2 END AS r
                FROM generate_series(%(first)s, %(last)s) AS g
            ) numbered
        ) ranked
    )
"""
LEADS_SQL = {
    "crm_lead": """
        INSERT INTO crm_lead (id, uuid, created_at, updated_at, deleted_at, company_id, first_name, last_name,
            email, phone, email_normalized, phone_normalized, owner_id, status, source, custom_fields,
            unsubscribed_at)
        SELECT %(lead)s + n, gen_random_uuid(), at, at, NULL, %(company)s, 'Lead', n::text,
               'lead' || %(prefix)s || n || '@scale.example', '', 'lead' || %(prefix)s || n || '@scale.example', '',
               NULL, 'new', (ARRAY['fair', 'web', ''])[1 + n %% 3], '{}', NULL
        FROM leads""",
    "crm_visitor": """
        INSERT INTO crm_visitor (id, uuid, created_at, updated_at, first_seen_at, last_seen_at, user_agent,
            company_id, lead_id, first_touch)
        SELECT %(visitor)s + n, gen_random_uuid(), at, at, at, at, 'Mozilla/5.0 (bench)', %(company)s,
               %(lead)s + n, '{}'
        FROM leads""",
    "action_engine_leadactionstate": """
        INSERT INTO action_engine_leadactionstate (id, company_id, action_company_id, lead_id, stage, stage_rank,
            previous_stage, sent_at, opened_at, submitted_at, downloaded_at, purchased_at, first_engaged_at,
            last_engaged_at, last_engagement_id, engagement_count, last_fingerprint, utm_source)
        SELECT %(state)s + n, %(company)s, %(action)s, %(lead)s + n, (ARRAY['sent', 'opened', 'submitted'])[1 + r],
               r, (ARRAY['sent', 'sent', 'submitted'])[1 + r], at,
               CASE WHEN r >= 1 THEN at + interval '10 minutes' END,
               CASE WHEN r >= 2 THEN at + interval '40 minutes' END, NULL, NULL, at, at + interval '90 minutes',
               %(engagement)s + n * 10, 10, '', (ARRAY['newsletter', 'ads', 'partner', ''])[1 + n %% 4]
        FROM leads""",
    "action_engine_receivercall": """
        INSERT INTO action_engine_receivercall (id, uuid, created_at, updated_at, company_id, receiver_id,
            engagement_id, headers, body, source_ip, outcome, error, processed_at, body_size, rejection)
        SELECT %(call)s + n, gen_random_uuid(), at, at, %(company)s, %(receiver)s, %(engagement)s + n * 10 - 9,
               '{"content-type": "application/json", "user-agent": "crm-hook/1.0"}',
               '{"email": "lead' || n || '@scale.example", "first_name": "Lead", "stage": "sent"}',
               '127.0.0.1', 'processed', NULL, at, 80, ''
        FROM leads""",
    "crm_leadreceiverattempt": """
        INSERT INTO crm_leadreceiverattempt (id, uuid, created_at, updated_at, company_id, receiver_id, lead_id,
            headers, body, source_ip, outcome, error, processed_at, body_size, rejection)
        SELECT %(lead_call)s + n, gen_random_uuid(), at, at, %(company)s, %(lead_receiver)s, %(lead)s + n,
               '{"content-type": "application/json", "user-agent": "fair-app/2.1"}',
               '{"email": "lead' || n || '@scale.example", "first_name": "Lead", "phone": "+33 6 00 00 00 00"}',
               '127.0.0.1', 'processed', NULL, at, 90, ''
        FROM leads""",
}
LEADS_CTE = """
    WITH leads AS (
        SELECT n, CASE WHEN n %% 10 < 5 THEN 0 WHEN n %% 10 < 8 THEN 1 ELSE 2 END AS r,
               now() - interval '365 days' + (n * 31536000.0 / %(leads)s) * interval '1 second' - interval '2 hours' AS at
        FROM generate_series(%(first)s, %(last)s) AS n
    )
"""


def grow(setup: dict, current: int, size: int) -> dict:
    """Add engagements current+1 .. size (and what they imply); returns the seconds of each part."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from salesassist.core.partitions import partitioned_tables, partitions_ensure

    count, leads = size - current, (size - current) // 10
    timings = {}
    started = time.perf_counter()
    # The year the rows span, in the monthly partitions a deployment running that long would have (again each
    # step: the rows are spread over the whole year, and retention dropped the oldest months).
    for table in partitioned_tables():
        partitions_ensure(table=table, since=timezone.now() - timedelta(days=366), until=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers: the ids are made consistent
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET synchronous_commit = off")
        definitions = secondary_indexes_drop(cursor, BIG_TABLES)
        params = {
            "company": setup["company"].pk,
            "action": setup["action_company"].pk,
            "workflow": setup["workflow"],
            "receiver": setup["receiver"],
            "lead_receiver": setup["lead_receiver"],
            "leads": leads,
            "prefix": f"{size}-",
            "lead": _next_id(cursor, "crm_lead"),
            "visitor": _next_id(cursor, "crm_visitor"),
            "state": _next_id(cursor, "action_engine_leadactionstate"),
            "call": _next_id(cursor, "action_engine_receivercall"),
            "lead_call": _next_id(cursor, "crm_leadreceiverattempt"),
            "message": _next_id(cursor, "action_engine_message"),
            "engagement": _next_id(cursor, "action_engine_engagement"),
            "delivery": _next_id(cursor, "workflows_delivery"),
            "attempt": _next_id(cursor, "workflows_deliveryattempt"),
        }
        for table, sql in LEADS_SQL.items():
            cursor.execute(LEADS_CTE + sql, {**params, "first": 1, "last": leads})
        for first in range(1, count + 1, SLICE):
            last = min(count, first + SLICE - 1)
            for table, sql in SLICE_SQL.items():
                cursor.execute(ROWS_CTE + sql, {**params, "first": first, "last": last})
        for table in BIG_TABLES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        timings["insert"] = time.perf_counter() - started
        index_started = time.perf_counter()
        for definition in definitions:
            cursor.execute(definition)
        timings["indexes"] = time.perf_counter() - index_started
        analyze_started = time.perf_counter()
        cursor.execute("SET session_replication_role = origin")
        cursor.execute(f"VACUUM ANALYZE {', '.join(BIG_TABLES)}")
        timings["vacuum analyze"] = time.perf_counter() - analyze_started
    timings["load"] = time.perf_counter() - started
    return timings


def table_sizes() -> dict:
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for table in BIG_TABLES:
            # A partitioned table's sizes are its partitions' (pg_partition_tree lists none for a plain table).
            cursor.execute(
                "SELECT SUM(pg_table_size(oid)), SUM(pg_indexes_size(oid)), SUM(pg_total_relation_size(oid)) "
                "FROM pg_class WHERE oid = %s::regclass OR oid IN (SELECT relid FROM pg_partition_tree(%s))",
                [table, table],
            )
            heap, indexes, total = (int(value or 0) for value in cursor.fetchone())
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            (rows,) = cursor.fetchone()
            sizes[table] = {"rows": rows, "heap": heap, "indexes": indexes, "total": total}
    return sizes


def links(setup: dict, count: int) -> list[dict]:
    """Signed links (as share makes them) for the newest `count` leads: what the page posts."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from action_engine.services import action_link_sign
    from crm.models import Lead, Visitor

    expires_at = timezone.now() + timedelta(days=1)
    made = []
    for lead in Lead.objects.filter(company=setup["company"]).order_by("-id")[:count]:
        visitor = Visitor(uuid=uuid.uuid4())  # not saved: the first engagement creates it
        token = action_link_sign(
            action_company=setup["action_company"], lead=lead, visitor=visitor, expires_at=expires_at
        )
        made.append({"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": token})
    return made


def measure_ingest(args, setup: dict, port: int, size: int) -> dict:
    leads = links(setup, 200)
    action = str(setup["action_company"].uuid)

    def engagement_request(number):
        link = leads[number % len(leads)]
        return common_engagement_request(action=action, link=link, number=number, key_prefix=f"scale-{size}")

    def baseline_request(number):
        return common_baseline_request(engagement_request(number), setup["company"].pk)

    run_phase("warmup", port, lambda n: baseline_request(n + 9_000_000), args.clients, args.clients * 3, 5)
    run_phase("warmup", port, lambda n: engagement_request(n + 9_000_000), args.clients, args.clients * 3, 5)
    rounds = {"baseline": [], "engagements": []}
    for number in range(2):
        offset = number * 100_000
        for name, make in (("baseline", baseline_request), ("engagements", engagement_request)):
            rounds[name].append(
                run_phase(
                    name,
                    port,
                    lambda n, make=make, offset=offset: make(n + offset),
                    args.clients,
                    100_000,
                    args.seconds / 2,
                )
            )
    baseline, engagements = merged(rounds["baseline"]), merged(rounds["engagements"])
    failed = baseline["failed"] + engagements["failed"]
    return {
        "baseline/s": baseline["throughput"],
        "engagements/s": engagements["throughput"],
        "ratio": engagements["throughput"] / baseline["throughput"] if baseline["throughput"] else float("nan"),
        "engagement p50 ms": engagements["p50_ms"],
        "failed": failed,
    }


def median_ms(http, url: str, reps: int) -> float:
    durations = []
    for round_number in range(reps + 2):  # two warm-up rounds
        started = time.perf_counter()
        response = http.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        if round_number >= 2:
            durations.append(elapsed)
    return statistics.median(durations)


def export_rate(http, url: str, seconds: float) -> tuple[float, float]:
    """Rows/s of a streamed CSV read for up to `seconds`, and ms to its first row."""
    started = time.perf_counter()
    first_row_ms, rows = None, -1  # the header is not a row
    with http.stream("GET", url, timeout=600) as response:
        assert response.status_code == 200, (url, response.status_code)
        for _ in response.iter_lines():
            rows += 1
            if rows == 1:
                first_row_ms = (time.perf_counter() - started) * 1000
            if time.perf_counter() - started >= seconds:
                break
    elapsed = time.perf_counter() - started
    return rows / elapsed, first_row_ms or float("nan")


def measure_reads(args, setup: dict, port: int) -> dict:
    from datetime import timedelta

    import httpx
    from django.utils import timezone

    from action_engine.models import Engagement
    from crm.models import Lead

    headers = {"Authorization": f"Bearer {setup['token']}"}
    crm = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={**headers, "Host": f"api.crm.localhost:{port}"}, timeout=600
    )
    engine = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={**headers, "Host": f"api.action-engine.localhost:{port}"},
        timeout=600,
    )
    action = setup["action_company"].uuid
    leads = Lead.objects.filter(company=setup["company"])
    lead = leads.order_by("id")[leads.count() // 2]  # a lead from the middle of the history
    since = (timezone.now() - timedelta(days=91)).date().isoformat()
    # The newest 50,000 engagements: a month's export of a busy company.
    window_start = (
        Engagement.objects.filter(company=setup["company"]).order_by("-created_at").values_list("created_at", flat=True)
    )[50_000 - 1 : 50_000].first() or timezone.now() - timedelta(days=365)
    results = {
        "feed first page ms": median_ms(crm, f"/v1/leads/{lead.uuid}/feed?page_size=50", args.reps),
        "board first page ms": median_ms(engine, f"/v1/company-actions/{action}/leads?page_size=50", args.reps),
        "board opened-not-submitted ms": median_ms(
            engine,
            f"/v1/company-actions/{action}/leads?"
            + urlencode({"page_size": 50, "reached": "opened", "not_reached": "submitted"}),
            args.reps,
        ),
        "funnel 90d weekly Paris ms": median_ms(
            engine,
            f"/v1/company-actions/{action}/funnel?"
            + urlencode({"since": since, "bucket": "week", "tz": "Europe/Paris"}),
            max(3, args.reps // 3),
        ),
    }
    rate, first = export_rate(
        engine, "/v1/engagements/export.csv?" + urlencode({"since": window_start.isoformat()}), args.seconds
    )
    results["engagement export rows/s (newest 50k)"] = rate
    results["engagement export first row ms"] = first
    rate, first = export_rate(crm, "/v1/leads/export.csv", args.seconds)
    results["lead export rows/s"] = rate
    results["lead export first row ms"] = first
    crm.close()
    engine.close()
    return results


def measure_retention(args) -> dict:
    """Each retention rule for `seconds`: the real service's batches, on the defaults (no company overrides)."""
    from django.conf import settings
    from django.utils import timezone

    from crm.retention import retention_rules
    from crm.services.retention import _rule_apply

    results = {}
    batch_size = max(1, settings.RETENTION_BATCH_SIZE)
    for rule in retention_rules():
        started = time.perf_counter()
        changed, _ = _rule_apply(
            rule, now=timezone.now(), dry_run=False, batch_size=batch_size, deadline=time.monotonic() + args.seconds
        )
        elapsed = time.perf_counter() - started
        if changed == 0:
            results[f"retention {rule.name}"] = "nothing due"
            continue
        results[f"retention {rule.name} ms/batch"] = elapsed * 1000 / max(1, changed / batch_size)
        results[f"retention {rule.name} rows/s"] = changed / elapsed
    return results


def print_table(columns: dict[int, dict]) -> None:
    names = []
    for values in columns.values():
        names.extend(name for name in values if name not in names)
    width = max(len(name) for name in names) + 2
    print(f"\n{'':<{width}}" + "".join(f"{size:>14,}" for size in columns))
    for name in names:
        cells = []
        for values in columns.values():
            value = values.get(name, "")
            if isinstance(value, float):
                cells.append(f"{value:>14,.1f}" if value < 1000 else f"{value:>14,.0f}")
            elif isinstance(value, int):
                cells.append(f"{value:>14,}")
            else:
                cells.append(f"{value!s:>14}")
        print(f"{name:<{width}}" + "".join(cells))
    print(flush=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if sizes != sorted(sizes) or sizes[0] < 1000:
        sys.exit("--sizes: ascending engagement counts of 1000 or more.")
    server_url, bench_url = in_process_database(args.db_name)
    import django

    django.setup()
    setup = setup_company()
    port = free_port()
    env = app_env(bench_url, port)
    gunicorn = start_gunicorn(env, port, args.workers)
    columns: dict[int, dict] = {}
    current = 0
    try:
        for size in sizes:
            print(f"growing to {size:,} engagements", flush=True)
            # The rows that live ingest added count towards the size.
            from action_engine.models import Engagement

            current = Engagement.objects.filter(company=setup["company"]).count()
            column = {}
            for part, seconds in grow(setup, current, size).items():
                column[f"load {part} s"] = seconds
            print(f"  loaded in {column['load load s']:.0f} s", flush=True)
            for table, size_of in table_sizes().items():
                rows = size_of["rows"] or 1
                column[f"{table} rows"] = size_of["rows"]
                column[f"{table} heap B/row"] = size_of["heap"] / rows
                column[f"{table} index B/row"] = size_of["indexes"] / rows
                column[f"{table} total MB"] = size_of["total"] / 2**20
            column.update(measure_reads(args, setup, port))
            print("  reads measured", flush=True)
            column.update(measure_ingest(args, setup, port, size))
            print("  ingest measured", flush=True)
            column.update(measure_retention(args))
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            column["load average"] = load
            columns[size] = column
            print_table(columns)
    finally:
        gunicorn_stop(gunicorn)
        if args.drop:
            from django.db import connections

            connections.close_all()
            bench_database_drop(server_url, args.db_name)
    print(f"cpus={os.cpu_count()} gunicorn workers={args.workers} ingest clients={args.clients}")


if __name__ == "__main__":
    main()
