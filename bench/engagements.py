"""Benchmark: engagements per second through the whole stack, against a one-INSERT baseline.

Runs the app under gunicorn on PostgreSQL (its own database, created and migrated here), then posts
from N concurrent clients (threads + httpx, 127.0.0.1 only), each phase bounded by a request count
and a time limit, the two phases alternating in rounds so background load hits both alike:

  baseline     POST /v1/public/bench/baseline/<company id>: one INSERT through the same middleware,
               DRF, throttles and JSON parsing (routed only because this script sets
               BENCH_BASELINE_ENDPOINT=1 for its gunicorn)
  engagements  POST /v1/public/engagements: the real thing (the lead, read with the configuration version;
               the action, its form and workflows from the per-process cache; the link's token, visitor
               create/link, the lead's state upsert on the action, JSON Schema validation of the form result,
               message + engagement in one statement, fan-out, in one transaction; an Idempotency-Key)

Prints throughput, p50 and p99 latency of each, and engagements/baseline throughput (target >= 0.5).

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/engagements.py \
      --clients 8 --requests 2000 --seconds 30 --workers 4

Where the time goes (2 cores, December 2026): an engagement is 5 statements where the baseline has one: the
lead read together with the configuration version (the company action with its system, modules and workflow
set comes from a per-process cache that version checks: salesassist/core/config.py, action_engine/configs.py),
then in one transaction the upsert of the lead's state on the action (which locks that row), and one statement
(a data-modifying CTE) of the visitor's upsert, the message and the engagement; a matching workflow would add
the deliveries' insert (the bench action has none). Begin and commit are round trips of their own.
It was 9 before the cache and the CTE (ratio 0.31-0.37), 6 with them (0.41-0.47 on a quiet machine; a new
visitor's 9: select, savepoint, insert, release), and at 5 with the answer written out instead of DRF's
field-by-field one: 0.61, 0.58, 0.53, and 0.51 with --requests 4000 (quiet machine, same day).
What remains besides the round trips is Python the baseline does too (DRF parsing, throttles, middleware) and
the engagement's own: the body's validation (a DRF serializer deep-copies its fields per request), the token's
signature, the form's JSON Schema (its validator cached per schema), the fingerprint, the raw lead read, a copy
of the cached company action; and PostgreSQL's side of four writes with their indexes (about 2.5 ms of server
CPU per engagement against the baseline's 0.5).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from common import API_HOST, app_env, bench_database_url, free_port, start_gunicorn
from common import baseline_request as common_baseline_request
from common import engagement_request as common_engagement_request

ROOT = Path(__file__).resolve().parent.parent


def migrate_and_seed(env: dict, leads: int) -> dict:
    """Migrate the bench database and create a company, a forms action and leads (in a child process)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = f"""
import json
from action_engine.choices import ModuleKind
from action_engine.models import Action, ActionSystem, ActionType, Form, ActionCompanySystemModule
from action_engine.services import action_company_create
from crm.models import Company, Lead
company = Company.objects.create(name="Bench", slug="bench")
action = Action.objects.create(name="Signup", slug="signup", type=ActionType.objects.get(slug="form"),
                               system=ActionSystem.objects.get(slug="forms"))
action_company = action_company_create(company=company, action=action)
form = Form.objects.create(company=company, name="Signup", schema={{
    "type": "object", "required": ["email"],
    "properties": {{"name": {{"type": "string", "maxLength": 100}},
                   "email": {{"type": "string", "format": "email"}}}}}})
ActionCompanySystemModule.objects.create(action_company=action_company, kind=ModuleKind.FORM, form=form)
Lead.objects.bulk_create([Lead(company=company, first_name=f"Lead {{n}}", email=f"lead{{n}}@bench.example",
                               email_normalized=f"lead{{n}}@bench.example") for n in range({leads})])
# Each lead's link, as share makes it: the page posts its visitor uuid and token (required by default).
import uuid
from datetime import timedelta
from django.utils import timezone
from action_engine.services import action_link_sign
from crm.models import Visitor
expires_at = timezone.now() + timedelta(days=1)
links = {{}}
for lead in Lead.objects.filter(company=company):
    visitor = Visitor(uuid=uuid.uuid4())  # not saved: the first engagement creates it, as a page's would
    token = action_link_sign(action_company=action_company, lead=lead, visitor=visitor, expires_at=expires_at)
    links[str(lead.uuid)] = {{"visitor": str(visitor.uuid), "token": token}}
print(json.dumps({{"company_id": company.id, "action": str(action_company.uuid), "links": links}}))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def run_phase(name, port, make_request, clients: int, total: int, seconds: float) -> dict:
    """Post from `clients` threads until `total` requests are done or `seconds` have passed."""
    latencies: list[float] = []
    failures: list[int] = []
    counter = iter(range(total))
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(client_index: int):
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{API_HOST}:{port}"}, timeout=30
        ) as http:
            while time.monotonic() < stop_at:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                path, body, headers = make_request(number)
                started = time.perf_counter()
                response = http.post(path, json=body, headers=headers)
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 201:
                        latencies.append(elapsed)
                    else:
                        failures.append(response.status_code)
                        if len(failures) <= 3:
                            print(f"  {name}: {response.status_code} {response.text[:300]}", file=sys.stderr)

    threads = [threading.Thread(target=client_loop, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "name": name,
        "latencies": latencies,
        "ok": len(latencies),
        "failed": len(failures),
        "seconds": wall,
        "throughput": len(latencies) / wall if wall else 0.0,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else float("nan"),
    }


def merged(results: list[dict]) -> dict:
    """One phase's rounds as one: requests over total time, latency percentiles over every request."""
    latencies = sorted(latency for result in results for latency in result["latencies"])
    seconds = sum(result["seconds"] for result in results)
    return {
        "name": results[0]["name"],
        "ok": len(latencies),
        "failed": sum(result["failed"] for result in results),
        "seconds": seconds,
        "throughput": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase (upper bound)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per phase (all its rounds)")
    parser.add_argument("--rounds", type=int, default=4, help="baseline and engagements alternate this many times")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--leads", type=int, default=500, help="leads the engagements are spread over")
    parser.add_argument("--database", default="salesassist_bench", help="benchmark database (dropped and created)")
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database there).")
    host = urlsplit(server_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("The benchmark only talks to 127.0.0.1.")

    port = free_port()
    env = app_env(bench_database_url(server_url, args.database), port)
    seed = migrate_and_seed(env, args.leads)
    links = seed["links"]
    leads = list(links)
    gunicorn = start_gunicorn(env, port, args.workers)
    try:

        def engagement_request(number):
            lead = leads[number % len(leads)]
            link = {"lead": lead, **links[lead]}
            return common_engagement_request(action=seed["action"], link=link, number=number, key_prefix="bench")

        def baseline_request(number):
            return common_baseline_request(engagement_request(number), seed["company_id"])

        # Warm both paths (imports, connections, caches) before measuring.
        run_phase("warmup", port, baseline_request, args.clients, args.clients * 5, 10)
        run_phase("warmup", port, lambda n: engagement_request(n + 10_000_000), args.clients, args.clients * 5, 10)

        # Alternate the two in rounds, so that background load on the machine hits both alike.
        rounds = {"baseline": [], "engagements": []}
        per_round = max(1, args.requests // args.rounds)
        for number in range(args.rounds):
            offset = number * per_round
            rounds["baseline"].append(
                run_phase(
                    "baseline",
                    port,
                    lambda n: baseline_request(n + offset),
                    args.clients,
                    per_round,
                    args.seconds / args.rounds,
                )
            )
            rounds["engagements"].append(
                run_phase(
                    "engagements",
                    port,
                    lambda n: engagement_request(n + offset),
                    args.clients,
                    per_round,
                    args.seconds / args.rounds,
                )
            )
        baseline, engagements = merged(rounds["baseline"]), merged(rounds["engagements"])
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"gunicorn workers={args.workers} clients={args.clients} leads={args.leads} cpus={os.cpu_count()} load={load}"
    )
    for result in (baseline, engagements):
        print(
            f"{result['name']:<12} {result['ok']:>6} ok {result['failed']:>4} failed in {result['seconds']:6.2f}s  "
            f"{result['throughput']:8.1f} req/s  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms"
        )
    ratio = engagements["throughput"] / baseline["throughput"] if baseline["throughput"] else float("nan")
    print(f"ratio engagements/baseline throughput: {ratio:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
