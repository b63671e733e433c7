"""Benchmark: a company action's board pages as fast with 1,000,000 leads as with 1,000; its funnel stays
under a second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/board.py
    python bench/board.py --big 100000 --reps 5        # a quick smoke run

It creates its own PostgreSQL database (`--db-name`, default salesassist_bench_board) on the server of
DATABASE_URL, migrates it and fills it with set-based SQL (INSERT ... SELECT generate_series, a million
rows in seconds): one company with two forms company actions, S with `--small` leads and B with `--big`
leads, each lead with its pipeline state (half sent, 30% opened, 20% submitted; first engaged over 90
days; a utm_source for three in four; five owners).

Then, through the whole Django stack (the test client, a real API key), `--reps` times each, interleaved:
- the board's first page (api.action-engine/v1/company-actions/{uuid}/leads) of S and of B with several
  filters, and the ratio B/S of the medians (target <= 1.5);
- B's funnel over the 90 days, weekly in Europe/Paris, and split by utm_source, in absolute time
  (target < 1 s);
and prints EXPLAIN ANALYZE of the queries. The database is dropped at the end unless --keep.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from common import bench_database_drop, in_process_database, indexes_dropped  # noqa: E402  (bench/ is on sys.path)

BOARD_FILTERS = {
    "all": {},
    "opened, not submitted": {"reached": "opened", "not_reached": "submitted"},
    "sent, unopened for 3 days": {"not_reached": "opened", "stalled_for": "P3D"},
    "stage submitted": {"stage": "submitted"},
    "submitted, quiet for 30 days": {"reached": "submitted", "stalled_for": "P30D"},
}
FUNNELS = {
    "90 days": {},
    "90 days, weekly in Paris": {"bucket": "week", "tz": "Europe/Paris"},
    "90 days, daily by utm_source": {"bucket": "day", "split": "utm_source"},
}
BOARD_TARGET, FUNNEL_TARGET_MS = 1.5, 1000.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000, help="leads of the small action")
    parser.add_argument("--big", type=int, default=1_000_000, help="leads of the big action")
    parser.add_argument("--reps", type=int, default=15, help="timed requests per measurement")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--db-name", default="salesassist_bench_board")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


def drop_database(args) -> None:
    from django.db import connections

    connections.close_all()
    bench_database_drop(args.server_url, args.db_name)


# One statement per action: the leads, then their states; rank 0 (sent) for half, 1 (opened) for 30%, 2
# (submitted) for 20%, each stage reached up to two hours after the one before.
INSERT_LEADS = """
INSERT INTO crm_lead (uuid, created_at, updated_at, company_id, first_name, last_name, email, phone,
                      email_normalized, phone_normalized, owner_id, status, source, custom_fields)
SELECT gen_random_uuid(), now(), now(), %(company)s, 'Lead', %(prefix)s || g, '', '', '', '',
       (%(owners)s::int[])[1 + g %% 5], 'new', (ARRAY['fair', 'web', ''])[1 + g %% 3], '{}'
FROM generate_series(1, %(count)s) AS g
"""
INSERT_STATES = """
WITH numbered AS (
    SELECT id AS lead_id, ROW_NUMBER() OVER (ORDER BY id) AS g FROM crm_lead WHERE last_name LIKE %(pattern)s
), timed AS (
    SELECT lead_id, g,
           CASE WHEN g %% 10 < 5 THEN 0 WHEN g %% 10 < 8 THEN 1 ELSE 2 END AS rank,
           now() - interval '90 days' + (g * 7776000.0 / %(count)s) * interval '1 second' AS sent
    FROM numbered
), staged AS (
    SELECT *, sent + (g %% 7200) * interval '1 second' AS opened,
           sent + (g %% 7200 + g %% 3600) * interval '1 second' AS submitted
    FROM timed
)
INSERT INTO action_engine_leadactionstate (
    company_id, action_company_id, lead_id, stage, stage_rank, sent_at, opened_at, submitted_at,
    first_engaged_at, last_engaged_at, engagement_count, utm_source, previous_stage, last_fingerprint
)
SELECT %(company)s, %(action)s, lead_id, (ARRAY['sent', 'opened', 'submitted'])[1 + rank], rank, sent,
       CASE WHEN rank >= 1 THEN LEAST(opened, now()) END, CASE WHEN rank >= 2 THEN LEAST(submitted, now()) END,
       sent, LEAST(CASE rank WHEN 0 THEN sent WHEN 1 THEN opened ELSE submitted END, now()), rank + 1,
       (ARRAY['newsletter', 'ads', 'partner', ''])[1 + g %% 4], (ARRAY['', 'sent', 'opened'])[1 + rank], ''
FROM staged
"""


def fill(args) -> dict:
    """The company, its two company actions, owners, leads and states; returns what the timing needs."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from action_engine.models import Action, ActionSystem, ActionType
    from action_engine.services import action_company_create
    from crm.models import Company
    from crm.services import api_key_create

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrated: {time.perf_counter() - started:.1f} s", flush=True)
    action = Action.objects.create(
        name="Contact form",
        slug="contact-form",
        type=ActionType.objects.get(slug="form"),
        system=ActionSystem.objects.get(slug="forms"),
    )
    company = Company.objects.create(name="Bench", slug="bench")
    owners = [get_user_model().objects.create(username=f"owner{n}").pk for n in range(5)]
    _, token = api_key_create(company=company, name="bench")
    actions = {}
    with connection.cursor() as cursor, indexes_dropped(cursor, ("crm_lead", "action_engine_leadactionstate")):
        for name, count in (("small", args.small), ("big", args.big)):
            action_company = action_company_create(company=company, action=action, name=name)
            leads = {"company": company.pk, "prefix": f"{name}-", "count": count, "owners": owners}
            cursor.execute(INSERT_LEADS, leads)
            cursor.execute(
                INSERT_STATES,
                {"company": company.pk, "action": action_company.pk, "pattern": f"{name}-%", "count": count},
            )
            actions[name] = action_company
            print(f"  filled {name} action: {count:,} leads and states", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_lead, action_engine_leadactionstate")
    print(f"fill: {time.perf_counter() - started:.1f} s", flush=True)
    return {"token": token, "actions": actions}


def timed_get(client, url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url, secure=True)  # as behind the HTTPS proxy: no redirect
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.content[:500]
    return elapsed, response.json()


def time_urls(client, urls: dict, reps: int) -> dict[str, list[float]]:
    """Each url `reps` times, interleaved so background load hits all alike; two warm-up rounds."""
    durations = {name: [] for name in urls}
    for round_number in range(reps + 2):
        for name, url in urls.items():
            elapsed, _ = timed_get(client, url)
            if round_number >= 2:
                durations[name].append(elapsed)
    return durations


def explain(queryset) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def explain_funnel(action_company, query: dict) -> str:
    """The plans of the funnel's queries, captured while the selector runs them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from action_engine.api.public_serializers import FunnelQuerySerializer
    from action_engine.selectors import action_company_funnel

    serializer = FunnelQuerySerializer(data=query)
    serializer.is_valid(raise_exception=True)
    with CaptureQueriesContext(connection) as captured:
        action_company_funnel(action_company=action_company, **serializer.validated_data)
    plans = []
    with connection.cursor() as cursor:
        for executed in captured.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {executed['sql']}")
            plans.append("\n".join(f"    {row[0]}" for row in cursor.fetchall()))
    return "\n  --\n".join(plans)


def main(argv=None) -> None:
    args = parse_args(argv)
    args.server_url, _ = in_process_database(args.db_name)
    import django

    django.setup()
    try:
        worst, slowest = run(args)
    finally:
        if not args.keep:
            drop_database(args)
            print(f"dropped database {args.db_name}")
    passed = worst <= BOARD_TARGET and slowest < FUNNEL_TARGET_MS
    print(
        f"{'PASS' if passed else 'FAIL'}: worst board ratio {worst:.2f} (target <= {BOARD_TARGET}), slowest funnel "
        f"{slowest:.0f} ms (target < {FUNNEL_TARGET_MS:.0f} ms)"
    )
    sys.exit(0 if passed else 1)


def run(args) -> tuple[float, float]:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone
    from django_hosts.resolvers import reverse_host

    from action_engine.selectors import lead_board
    from salesassist.hosts import ACTION_ENGINE_API

    print(f"database {args.db_name}: small {args.small:,} leads, big {args.big:,} leads", flush=True)
    data = fill(args)
    client = Client(HTTP_HOST=reverse_host(ACTION_ENGINE_API), HTTP_AUTHORIZATION=f"Bearer {data['token']}")
    actions = data["actions"]

    print(f"board, first page of {args.page_size} (median of {args.reps}, ms):")
    worst = 0.0
    for label, query in BOARD_FILTERS.items():
        urls = {
            name: f"/v1/company-actions/{action.uuid}/leads?{urlencode({**query, 'page_size': args.page_size})}"
            for name, action in actions.items()
        }
        durations = time_urls(client, urls, args.reps)
        small, big = statistics.median(durations["small"]), statistics.median(durations["big"])
        worst = max(worst, big / small)
        print(f"  {label:<30} small {small:7.2f}  big {big:7.2f}  ratio {big / small:.2f}", flush=True)

    since = (timezone.now() - timedelta(days=91)).date().isoformat()
    print(f"funnel of the big action ({args.big:,} leads; median of {args.reps}, ms):")
    slowest = 0.0
    urls = {
        label: f"/v1/company-actions/{actions['big'].uuid}/funnel?{urlencode({**query, 'since': since})}"
        for label, query in FUNNELS.items()
    }
    for label, durations in time_urls(client, urls, args.reps).items():
        slowest = max(slowest, statistics.median(durations))
        print(f"  {label:<30} {statistics.median(durations):8.1f} (min {min(durations):.1f})", flush=True)

    plans = {
        "opened, not submitted": {"reached": "opened", "not_reached": "submitted"},
        "sent, unopened for 3 days": {"not_reached": "opened", "stalled_for": timedelta(days=3)},
    }
    for label, filters in plans.items():
        print(f"plan of the big board's first page, {label}:")
        print(explain(lead_board(action_company=actions["big"], **filters)[: args.page_size + 1]))
    for label, query in list(FUNNELS.items())[1:]:
        print(f"plans of the big funnel, {label}:")
        print(explain_funnel(actions["big"], {**query, "since": since}))
    return worst, slowest


if __name__ == "__main__":
    main()
