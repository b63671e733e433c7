"""Benchmark: a lead's feed pages as fast with 1,000,000 engagements as with 1,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/feed.py
    python bench/feed.py --small 100 --big 10000 --noise 10000 --reps 5      # a quick smoke run

It creates (or reuses with --skip-fill) its own PostgreSQL database (`--db-name`, default
salesassist_bench) on the server of DATABASE_URL, migrates it, and fills it with SQL
(INSERT ... SELECT generate_series, one statement per lead, so a million rows take seconds, not hours):

- lead S with `--small` engagements and lead B with `--big` engagements, both of one company;
- `--noise` more engagements spread over `--noise-leads` leads of `--companies` other companies, so the
  index has to pick one lead's rows out of many.

Then it asks the API for each lead's feed (api.crm/v1/leads/{uuid}/feed, through the whole Django stack
with the test client and a real API key): the first page, and a deep page (a cursor 90% into the
feed), `--reps` times each, and prints the timings and the ratio big/small (the target is < 1.5).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000, help="engagements of the small lead")
    parser.add_argument("--big", type=int, default=1_000_000, help="engagements of the big lead")
    parser.add_argument("--noise", type=int, default=1_000_000, help="engagements of other leads and companies")
    parser.add_argument("--noise-leads", type=int, default=1_000, help="leads the noise is spread over")
    parser.add_argument("--companies", type=int, default=10, help="other companies the noise leads belong to")
    parser.add_argument("--reps", type=int, default=20, help="timed requests per measurement")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--deep", type=float, default=0.9, help="where the deep page starts, as a fraction")
    parser.add_argument("--db-name", default="salesassist_bench")
    parser.add_argument("--skip-fill", action="store_true", help="reuse the data of a previous run")
    return parser.parse_args(argv)


def prepare_database(args) -> None:
    """Point DATABASE_URL at the benchmark database, creating it (empty) unless --skip-fill."""
    import environ

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL (postgres://user@host:port/any-database).")
    config = environ.Env.db_url_config(url)
    import psycopg

    admin = psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db_name]).fetchone()
        if not args.skip_fill:
            if exists:
                admin.execute(f'DROP DATABASE "{args.db_name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{args.db_name}"')
        elif not exists:
            sys.exit(f"--skip-fill: database {args.db_name} does not exist; run once without it.")
    parts = urlsplit(url)
    os.environ["DATABASE_URL"] = parts._replace(path=f"/{args.db_name}").geturl()
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesassist.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def fill(args) -> dict:
    """Companies, leads, company actions and engagements; returns what the timing needs."""
    from django.core.management import call_command
    from django.db import connection

    from action_engine.models import Action, ActionSystem, ActionType
    from action_engine.services import action_company_create
    from crm.models import Company, Lead, Visitor
    from crm.services import api_key_create

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    action = Action.objects.create(
        name="Contact form",
        slug="contact-form",
        type=ActionType.objects.get(slug="form"),
        system=ActionSystem.objects.get(slug="forms"),
    )
    company = Company.objects.create(name="Bench", slug="bench")
    action_company = action_company_create(company=company, action=action, name="Contact form")
    small = Lead.objects.create(company=company, first_name="Small", email="small@example.com")
    big = Lead.objects.create(company=company, first_name="Big", email="big@example.com")
    _, token = api_key_create(company=company, name="bench")

    others = [Company.objects.create(name=f"Noise {n}", slug=f"noise-{n}") for n in range(args.companies)]
    other_actions = [action_company_create(company=other, action=action) for other in others]
    noise_leads = Lead.objects.bulk_create(
        Lead(company=others[n % len(others)], first_name=f"Noise {n}", email=f"noise{n}@example.com")
        for n in range(args.noise_leads)
    )
    visitors = Visitor.objects.bulk_create(
        Visitor(company_id=lead.company_id, lead=lead) for lead in [small, big, *noise_leads]
    )
    visitor_of = {visitor.lead_id: visitor.pk for visitor in visitors}
    action_of_company = {ac.company_id: ac.pk for ac in other_actions}

    with connection.cursor() as cursor:
        for lead, count in ((small, args.small), (big, args.big)):
            _insert_engagements(
                cursor,
                count=count,
                company_ids=[company.pk],
                action_company_ids=[action_company.pk],
                lead_ids=[lead.pk],
                visitor_ids=[visitor_of[lead.pk]],
            )
            print(f"  filled {lead.first_name.lower()} lead: {count:,} engagements", flush=True)
        if args.noise and noise_leads:
            _insert_engagements(
                cursor,
                count=args.noise,
                company_ids=[lead.company_id for lead in noise_leads],
                action_company_ids=[action_of_company[lead.company_id] for lead in noise_leads],
                lead_ids=[lead.pk for lead in noise_leads],
                visitor_ids=[visitor_of[lead.pk] for lead in noise_leads],
            )
            print(f"  filled noise: {args.noise:,} engagements over {len(noise_leads):,} leads", flush=True)
        cursor.execute("ANALYZE")
    print(f"fill: {time.perf_counter() - started:.1f} s", flush=True)
    return {"token": token, "small": small.uuid, "big": big.uuid}


# Rows are one second apart, oldest first, ending now; each gets its own message. The row numbers of
# the messages and the engagements line up through ROW_NUMBER over the inserted message ids.
INSERT_ENGAGEMENTS = """
WITH spread AS (
    SELECT g,
           1 + (g %% %(rows)s) AS k,
           now() - (%(count)s - g) * interval '1 second' AS at
    FROM generate_series(1, %(count)s) AS g
),
messages AS (
    INSERT INTO action_engine_message (uuid, created_at, updated_at, company_id, body)
    SELECT gen_random_uuid(), at, at, (%(company_ids)s::bigint[])[k],
           jsonb_build_object('data', jsonb_build_object('email', 'lead' || g || '@example.com', 'n', g))
    FROM spread
    ORDER BY g
    RETURNING id, created_at, company_id
),
numbered AS (
    SELECT id, created_at, ROW_NUMBER() OVER (ORDER BY id) AS g FROM messages
)
INSERT INTO action_engine_engagement (
    uuid, created_at, updated_at, company_id, action_company_id, lead_id, visitor_id, receiver_id,
    stage, previous_stage, message_id, idempotency_key, request_fingerprint, meta
)
SELECT gen_random_uuid(), numbered.created_at, numbered.created_at,
       (%(company_ids)s::bigint[])[spread.k], (%(action_company_ids)s::bigint[])[spread.k],
       (%(lead_ids)s::bigint[])[spread.k], (%(visitor_ids)s::bigint[])[spread.k], NULL,
       (ARRAY['sent', 'opened', 'submitted'])[1 + (spread.g %% 3)],
       (ARRAY['', 'sent', 'opened'])[1 + (spread.g %% 3)],
       numbered.id, '', '', '{}'::jsonb
FROM numbered JOIN spread ON spread.g = numbered.g
"""


def _insert_engagements(cursor, *, count, company_ids, action_company_ids, lead_ids, visitor_ids) -> None:
    if count <= 0:
        return
    # Large fills go in slices so one statement never holds millions of rows in memory.
    step = 250_000
    for offset in range(0, count, step):
        cursor.execute(
            INSERT_ENGAGEMENTS,
            {
                "count": min(step, count - offset),
                "rows": len(lead_ids),
                "company_ids": company_ids,
                "action_company_ids": action_company_ids,
                "lead_ids": lead_ids,
                "visitor_ids": visitor_ids,
            },
        )


def existing(args) -> dict:
    """--skip-fill: the leads and a fresh key of a previous run's data."""
    from crm.models import Company, Lead
    from crm.services import api_key_create

    company = Company.objects.get(slug="bench")
    _, token = api_key_create(company=company, name="bench")
    return {
        "token": token,
        "small": Lead.objects.get(company=company, email="small@example.com").uuid,
        "big": Lead.objects.get(company=company, email="big@example.com").uuid,
    }


def deep_cursor(lead_uuid, fraction: float, page_size: int) -> tuple[str, int]:
    """A feed cursor that starts `fraction` of the way into the lead's history (DRF's own encoding),
    but never so deep that the page would not be full."""
    from rest_framework.pagination import Cursor

    from action_engine.models import Engagement
    from crm.models import Lead
    from salesassist.core.pagination import CursorPagination

    lead = Lead.objects.get(uuid=lead_uuid)
    rows = Engagement.objects.filter(company_id=lead.company_id, lead=lead)
    total = rows.count()
    skip = max(0, min(int(total * fraction), total - page_size - 1))
    position = rows.order_by("-created_at", "-id").values_list("created_at", flat=True)[skip]
    paginator = CursorPagination()
    paginator.base_url = "http://bench/"
    url = paginator.encode_cursor(Cursor(offset=0, reverse=False, position=str(position)))
    return parse_qs(urlsplit(url).query)["cursor"][0], total


def timed_get(client, url: str, page_size: int) -> float:
    """Milliseconds for one feed page through the whole stack; checks the page is full."""
    started = time.perf_counter()
    response = client.get(url, secure=True)  # as behind the HTTPS proxy: no redirect
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert len(response.json()["results"]) == page_size, "the page is not full: is the lead filled?"
    return elapsed


def time_pages(client, urls: dict[str, str], reps: int, page_size: int) -> dict[str, list[float]]:
    """Time each url `reps` times, interleaved (small, big, small, big…), so background load on the
    machine hits both leads alike; the first two rounds only warm caches and connections."""
    durations: dict[str, list[float]] = {name: [] for name in urls}
    for round_number in range(reps + 2):
        for name, url in urls.items():
            elapsed = timed_get(client, url, page_size)
            if round_number >= 2:
                durations[name].append(elapsed)
    return durations


def explain(lead_uuid, cursor_position) -> str:
    """The plan of the deep page's query, to show it is an index range scan."""
    from django.db import connection

    from action_engine.selectors import feed_for_lead
    from crm.models import Lead

    lead = Lead.objects.get(uuid=lead_uuid)
    queryset = feed_for_lead(lead=lead).filter(created_at__lt=cursor_position)[:51]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def main(argv=None) -> None:
    args = parse_args(argv)
    prepare_database(args)
    import django

    django.setup()
    from django.test import Client
    from django_hosts.resolvers import reverse_host

    from salesassist.hosts import CRM_API

    if args.skip_fill:
        print(f"database {args.db_name}: reusing the data of a previous run", flush=True)
    else:
        print(
            f"database {args.db_name}: small {args.small:,}, big {args.big:,}, noise {args.noise:,} over "
            f"{args.noise_leads:,} leads of {args.companies} companies",
            flush=True,
        )
    data = existing(args) if args.skip_fill else fill(args)
    client = Client(HTTP_HOST=reverse_host(CRM_API), HTTP_AUTHORIZATION=f"Bearer {data['token']}")

    results = {}
    urls = {"first": {}, "deep": {}}
    for name in ("small", "big"):
        lead_uuid = data[name]
        cursor, total = deep_cursor(lead_uuid, args.deep, args.page_size)
        base = f"/v1/leads/{lead_uuid}/feed?page_size={args.page_size}"
        urls["first"][name] = base
        urls["deep"][name] = f"{base}&{urlencode({'cursor': cursor})}"
        results[name] = {"total": total}
    for page in ("first", "deep"):
        for name, durations in time_pages(client, urls[page], args.reps, args.page_size).items():
            results[name][page] = durations
    for name in ("small", "big"):
        first, deep, total = results[name]["first"], results[name]["deep"], results[name]["total"]
        print(
            f"{name:>5} lead ({total:>9,} engagements): first page median {statistics.median(first):6.2f} ms "
            f"(min {min(first):6.2f}), deep page median {statistics.median(deep):6.2f} ms (min {min(deep):6.2f})",
            flush=True,
        )

    print("ratio big/small (medians):")
    worst = 0.0
    for page in ("first", "deep"):
        ratio = statistics.median(results["big"][page]) / statistics.median(results["small"][page])
        worst = max(worst, ratio)
        print(f"  {page:>5} page: {ratio:.2f}")
    from crm.models import Lead

    big = Lead.objects.get(uuid=data["big"])
    from action_engine.models import Engagement

    total = results["big"]["total"]
    position = (
        Engagement.objects.filter(company_id=big.company_id, lead=big)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[max(0, min(int(total * args.deep), total - args.page_size - 1))]
    )
    print("plan of the big lead's deep page:")
    print(explain(data["big"], position))
    verdict = "PASS" if worst < 1.5 else "FAIL"
    print(f"{verdict}: worst ratio {worst:.2f} (target < 1.5)")
    sys.exit(0 if worst < 1.5 else 1)


if __name__ == "__main__":
    main()
