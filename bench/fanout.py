"""Benchmark: fan-out of engagements to webhooks through a real django-q2 cluster on PostgreSQL.

Creates its own database (dropped and migrated here), a local HTTP sink on 127.0.0.1 (the tests' sink),
one company action with W webhook workflows, then:

  fanout   E engagements recorded one transaction each (engagement + message + Delivery rows, the first
           attempt queued on commit), delivered by `manage.py qcluster` (Q workers). Prints deliveries per
           second (first commit → last delivery received) and end-to-end latency p50/p99 (engagement
           committed → request received by the sink).
  plain    the same signed requests (same payload builder, signing, SSRF check and pinned httpx client),
           sent one after another in a plain loop: the ceiling a queue adds nothing to. Prints the
           ratio fanout/plain (target >= 0.5).
  failing  again with the sink answering 503 to a random 20 % of requests. Retries use a short schedule
           and this script runs the sweeper every second (the real schedule runs it every minute).
           Checks that nothing is lost: every delivery succeeded, and exactly one request per webhook-id
           was answered 200.

  --rate N --duration S   instead of the above: an open loop. N engagements a second for S seconds are
           posted to the real API (POST /v1/public/engagements, gunicorn as deployed: 3 gthread workers of 4
           threads), each at its own time whether or not earlier ones were answered (a late one is sent
           late; the schedule never slips), each
           fanning out to the W webhook workflows, delivered by `manage.py worker`. Prints p50/p99/max
           committed -> received (committed: the Delivery row's created_at, written in the engagement's
           transaction just before its commit, so slightly early: the figures are upper bounds), lost and
           duplicated deliveries, how many requests were sent late, and whether p99 < 1 s was met.

  --broker orm|redis|both (default both) runs live, drain and failing on the django-q2 ORM broker (the
  default, tasks in PostgreSQL) and/or the Redis broker (Q_BROKER_URL, on --redis-url), against the one plain
  loop: both ratios come from the same run.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/fanout.py \
      --engagements 1000 --workflows 5 --workers 2
  DATABASE_URL=... .venv/bin/python bench/fanout.py --rate 50 --duration 30 --broker orm
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from common import API_HOST, app_env, bench_database_url, free_port, gunicorn_stop, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# A request of the open loop sent more than this after its time is counted late.
LATE = 0.02


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Cluster:
    """`manage.py worker` (the django-q2 cluster) with the benchmark's settings, in its own process group."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=1000)
    parser.add_argument("--workflows", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="qcluster worker processes")
    parser.add_argument("--poll", type=float, default=None, help="Q_POLL of the cluster (default: the settings')")
    parser.add_argument("--producers", type=int, default=4, help="threads recording engagements")
    parser.add_argument("--fail-ratio", type=float, default=0.2)
    parser.add_argument("--failing-engagements", type=int, default=None, help="default: --engagements")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each phase")
    parser.add_argument("--database", default="salesassist_bench_fanout")
    parser.add_argument("--broker", choices=["orm", "redis", "both"], default="both")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="the Redis broker's (emptied)")
    parser.add_argument("--rate", type=float, default=0, help="engagements per second, open loop (see above)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of --rate")
    parser.add_argument("--clients", type=int, default=32, help="--rate: threads posting engagements")
    parser.add_argument("--web-workers", type=int, default=3, help="--rate: gunicorn worker processes")
    # As deployed (deploy/gunicorn.conf.py: 3 gthread workers of 4 threads): sync workers answer 3 requests at a
    # time, and while each waits on PostgreSQL the CPU it could use goes idle.
    parser.add_argument("--web-threads", type=int, default=4, help="--rate: threads per gunicorn worker (1: sync)")
    parser.add_argument("--port", type=int, default=0, help="--rate: gunicorn's port (default: a free one)")
    parser.add_argument("--sink-port", type=int, default=0, help="the sink's port (default: a free one)")
    args = parser.parse_args()
    # Stopped from outside (a timeout): still end the servers and the worker it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database_url = bench_database_url(server, args.database)
    retry_schedule = "0,1,1,2,2,3,3,5,5,5"
    os.environ.update(
        DATABASE_URL=database_url,
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        DEBUG="false",
        STATIC_MANIFEST="false",
        WORKFLOW_ALLOW_PRIVATE_TARGETS="true",
        WORKFLOW_RETRY_SCHEDULE=retry_schedule,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="salesassist.settings",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)
    cluster_env = {**os.environ, "Q_WORKERS": str(args.workers), "Q_SYNC": "false"}
    if args.poll is not None:
        cluster_env["Q_POLL"] = str(args.poll)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    from action_engine.choices import Stage
    from action_engine.models import Engagement, Message
    from crm.models import Lead
    from salesassist.core.webhook_signing import message_id_for
    from tests.action_engine.factories import ActionCompanyFactory
    from tests.crm.factories import CompanyFactory
    from tests.workflows.factories import ActionCompanyWorkflowFactory, WorkflowFactory
    from tests.workflows.sink import Sink
    from workflows.choices import DeliveryStatus
    from workflows.kinds import kind_handler
    from workflows.models import Delivery, Workflow
    from workflows.services import deliveries_sweep, delivery_event, engagement_fanout

    log = Path("/tmp/bench_fanout_qcluster.log")
    log.write_text("")
    company = CompanyFactory(name="Bench", slug="bench")
    action_company = ActionCompanyFactory(company=company)

    def setup_workflows(sink: Sink) -> list:
        workflows = []
        for n in range(args.workflows):
            workflow = WorkflowFactory(company=company, config={"url": sink.url(f"/w{n}")})
            ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
            workflows.append(workflow)
        return workflows

    def record(count: int, tag: str) -> dict:
        """Record `count` engagements, each in its own transaction, from --producers threads (as concurrent
        web requests would); their commit times by delivery message id."""
        leads = Lead.objects.bulk_create(
            [Lead(company=company, first_name="Lead", email=f"{tag}{n}@bench.example") for n in range(count)]
        )
        committed = {}

        def produce(share: list) -> None:
            try:
                for lead in share:
                    with transaction.atomic():
                        message = Message.objects.create(company=company, body={"data": {"email": lead.email}})
                        engagement = Engagement.objects.create(
                            company=company,
                            action_company=action_company,
                            lead=lead,
                            stage=Stage.SUBMITTED,
                            message=message,
                        )
                        deliveries = engagement_fanout(engagement=engagement)
                    now = time.time()
                    for delivery in deliveries:
                        committed[message_id_for(delivery.uuid)] = now
            finally:
                connection.close()

        threads = [threading.Thread(target=produce, args=(leads[n :: args.producers],)) for n in range(args.producers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return committed

    def wait_delivered(sink: Sink, expected: int, sweep: bool) -> None:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() >= expected:
                return
            if sweep:
                deliveries_sweep()
            time.sleep(1 if sweep else 0.2)
        raise SystemExit(f"timed out: {Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count()}/{expected}")

    def first_success(sink: Sink) -> dict:
        received = {}
        for request in sink.requests:
            if request.status == 200:
                received.setdefault(request.headers["webhook-id"], request.received_at)
        return received

    def use_broker(broker: str) -> dict:
        """Queue from this process through `broker` (django-q2 reads its settings once, at import) and return
        the cluster's environment for it."""
        Conf.ORM, Conf.REDIS = ("default", {}) if broker == "orm" else (None, args.redis_url)
        Conf.BROKER_CLASS = settings.Q_CLUSTER.get("broker_class") if broker == "orm" else None
        if broker == "redis":
            get_broker().delete_queue()
        return {**cluster_env, "Q_BROKER_URL": args.redis_url if broker == "redis" else ""}

    def fresh_workflows(sink: Sink) -> None:
        Delivery.objects.all().delete()
        Workflow.objects.update(is_active=False)
        setup_workflows(sink)

    expected = args.engagements * args.workflows
    brokers = ["orm", "redis"] if args.broker == "both" else [args.broker]
    poll = args.poll if args.poll is not None else settings.Q_CLUSTER["poll"]

    def at_rate(broker: str) -> bool:
        """The open loop: engagements posted to the API at fixed times; committed -> received per delivery."""
        env = use_broker(broker)
        sink = Sink(port=args.sink_port)
        fresh_workflows(sink)
        count = int(args.rate * args.duration)
        warmup = max(10, int(args.rate))  # one second's worth, not measured: imports, connections, caches
        links = rate_links(count + warmup)
        port = args.port or free_port()
        web_env = {**app_env(database_url, port), "Q_BROKER_URL": env["Q_BROKER_URL"]}
        print(f"{broker} broker, open loop: {args.rate:g} engagements/s for {args.duration:g} s x {args.workflows} "
              f"workflows = {count * args.workflows} deliveries; gunicorn {args.web_workers} workers x {args.web_threads} threads, worker "
              f"{args.workers} processes, poll {poll} s; {os.cpu_count()} cores shared by everything")
        gunicorn = start_gunicorn(web_env, port, args.web_workers, args.web_threads)
        try:
            with Cluster(env, log):
                time.sleep(2)
                warm = post_at_rate(port, links[:warmup], rate=args.rate)
                if set(warm["statuses"]) != {201}:
                    raise SystemExit(f"the API refused engagements: {warm['refusals'][:3]}")
                first_measured = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
                wait_delivered(sink, warmup * args.workflows, sweep=False)
                load_before = os.getloadavg()[0]
                posted = post_at_rate(port, links[warmup:], rate=args.rate)
                measured = Delivery.objects.filter(id__gt=first_measured)
                settle = time.monotonic() + 60
                while time.monotonic() < settle and measured.exclude(status=DeliveryStatus.SUCCEEDED).exists():
                    time.sleep(0.2)
                load_after = os.getloadavg()[0]
        finally:
            gunicorn_stop(gunicorn)
        sink.close()
        committed = {message_id_for(key): created.timestamp() for key, created in measured.values_list("uuid", "created_at")}
        answers = Counter(request.headers["webhook-id"] for request in sink.requests if request.status == 200)
        received = first_success(sink)
        latencies = [received[key] - committed[key] for key in committed if key in received]
        lost = [key for key in committed if key not in received]
        twice = [key for key in committed if answers[key] > 1]
        refused = [status for status in posted["statuses"] if status != 201]
        print(f"  posted {len(posted['statuses'])} engagements in {posted['seconds']:.2f} s "
              f"({len(refused)} not 201: {dict(Counter(refused))}); sent late (> {LATE * 1000:.0f} ms after its "
              f"time): {posted['late']}, at most {posted['max_late'] * 1000:.0f} ms; "
              f"API answer p50 {percentile(posted['latencies'], 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(posted['latencies'], 0.99) * 1000:.0f} ms; load {load_before:.1f} -> {load_after:.1f}")
        if not latencies:
            print("  nothing was delivered")
            return False
        p99 = percentile(latencies, 0.99)
        print(f"  committed -> received ({len(committed)} deliveries): p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; lost {len(lost)}; "
              f"received twice {len(twice)}")
        for key in twice[:5]:
            # Why it came twice: the sink's receipts and the attempts the worker logged for that delivery.
            receipts = [f"{request.received_at - committed[key]:.3f} s" for request in sink.requests
                        if request.headers.get("webhook-id") == key]
            delivery = next(delivery for delivery in measured if message_id_for(delivery.uuid) == key)
            attempts = [(attempt.number, attempt.response_status, attempt.error_class, attempt.error_message[:80],
                         attempt.duration_ms, f"{attempt.created_at.timestamp() - committed[key]:.3f} s")
                        for attempt in delivery.attempt_log.order_by("id")]
            print(f"    {key} received after {receipts}; attempts (number, status, error, ms, logged after) {attempts}")
        met = p99 < 1.0 and not lost and not twice and len(committed) == count * args.workflows
        print(f"  target p99 < 1 s, nothing lost or twice: {'met' if met else 'NOT met'}")
        return met

    def rate_links(count: int) -> list[dict]:
        """`count` engagements' bodies for the public API: a forms action, leads and their signed links."""
        from datetime import timedelta
        import uuid

        from django.utils import timezone

        from action_engine.choices import ModuleKind
        from action_engine.models import ActionCompanySystemModule, Form
        from action_engine.services import action_link_sign
        from crm.models import Visitor

        form = Form.objects.create(company=company, name="Signup", schema={
            "type": "object", "required": ["email"],
            "properties": {"name": {"type": "string", "maxLength": 100}, "email": {"type": "string", "format": "email"}},
        })
        ActionCompanySystemModule.objects.get_or_create(
            action_company=action_company, kind=ModuleKind.FORM, defaults={"form": form}
        )
        # Spread over leads (each engagement locks its lead), a few engagements each.
        leads = Lead.objects.bulk_create(
            [Lead(company=company, first_name="Lead", email=f"rate{n}@bench.example") for n in range(max(1, count // 3))]
        )
        expires_at = timezone.now() + timedelta(days=1)
        visitors = {lead.pk: Visitor(uuid=uuid.uuid4()) for lead in leads}  # the first engagement creates each
        tokens = {
            lead.pk: action_link_sign(
                action_company=action_company, lead=lead, visitor=visitors[lead.pk], expires_at=expires_at
            )
            for lead in leads
        }
        bodies = []
        for n in range(count):
            lead = leads[n % len(leads)]
            bodies.append({
                "action": str(action_company.uuid),
                "lead": str(lead.uuid),
                "visitor": str(visitors[lead.pk].uuid),
                "token": tokens[lead.pk],
                "stage": "submitted",
                "message": {"data": {"name": f"Lead {n}", "email": f"rate{n}@bench.example"}},
            })
        return bodies

    def post_at_rate(port: int, bodies: list[dict], *, rate: float) -> dict:
        """Post each body at its own time (start + n / rate) from --clients threads: a request whose time
        comes while every thread is busy is sent late, and the ones after it keep their times."""
        import queue
        import uuid

        import httpx

        due: queue.Queue = queue.Queue()
        statuses, latencies, lateness, refusals = [], [], [], []
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{API_HOST}:{port}"}, timeout=60
            ) as http:
                while (item := due.get()) is not None:
                    body, at = item
                    started = time.monotonic()
                    try:
                        response = http.post(
                            "/v1/public/engagements", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
                        )
                        status, answer = response.status_code, response.text[:300]
                    except httpx.HTTPError as exc:
                        status, answer = 0, repr(exc)
                    with lock:
                        if status != 201:
                            refusals.append(f"{status} {answer}")
                        statuses.append(status)
                        lateness.append(started - at)
                        latencies.append(time.monotonic() - started)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        start = time.monotonic() + 0.1
        for n, body in enumerate(bodies):
            at = start + n / rate
            pause = at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due.put((body, at))
        for _ in threads:
            due.put(None)
        for thread in threads:
            thread.join()
        return {
            "statuses": statuses,
            "refusals": refusals,
            "latencies": latencies,
            "late": sum(1 for late in lateness if late > LATE),
            "max_late": max(lateness, default=0.0),
            "seconds": time.monotonic() - start,
        }

    def live_and_drain(broker: str) -> tuple[float, float]:
        env = use_broker(broker)
        # --- 1. live: engagements recorded while the cluster delivers ---------------------------------------
        sink = Sink(port=args.sink_port)
        fresh_workflows(sink)
        with Cluster(env, log):
            time.sleep(2)  # let the cluster start: the clock starts at the first commit
            committed = record(args.engagements, f"a{broker}")
            recorded = max(committed.values()) - min(committed.values())
            wait_delivered(sink, expected, sweep=False)
        received = first_success(sink)
        assert set(received) == set(committed), "a delivery is missing"
        elapsed = max(received.values()) - min(committed.values())
        latencies = [received[key] - committed[key] for key in committed]
        live_rate = expected / elapsed
        print(f"{broker} broker, live ({args.producers} threads record engagements while the cluster delivers):")
        print(f"  {live_rate:8.1f} deliveries/s  (first commit -> last delivery {elapsed:.2f} s; "
              f"recording alone took {recorded:.2f} s)")
        print(f"  latency committed -> received: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms")
        sink.close()

        # --- 2. drain: the same number recorded first, then the cluster delivers the backlog -------------------
        sink = Sink(port=args.sink_port)
        fresh_workflows(sink)
        committed = record(args.engagements, f"b{broker}")
        with Cluster(env, log):
            wait_delivered(sink, expected, sweep=False)
        received = sorted(first_success(sink).values())
        assert len(received) == expected, "a delivery is missing"
        drain_rate = (expected - 1) / (received[-1] - received[0])
        print(f"{broker} broker, drain (a backlog of recorded engagements, nothing else running):")
        print(f"  {drain_rate:8.1f} deliveries/s  (first -> last delivery {received[-1] - received[0]:.2f} s)")
        sink.close()
        return live_rate, drain_rate

    if args.rate:
        return 0 if all([at_rate(broker) for broker in brokers]) else 1
    print(f"{args.engagements} engagements x {args.workflows} workflows = {expected} deliveries; worker with "
          f"{args.workers} processes, poll {poll} s; {os.cpu_count()} cores shared by everything")
    rates = {broker: live_and_drain(broker) for broker in brokers}

    # --- 3. the same signed requests in a plain loop -----------------------------------------------------
    plain_sink = Sink(port=args.sink_port)
    handler = kind_handler("webhook")
    prepared = []
    for delivery in Delivery.objects.select_related(
        "workflow", "engagement__lead", "engagement__message", "engagement__action_company__action__system"
    ):
        delivery.workflow.config = {"url": plain_sink.url(urlsplit(delivery.workflow.config["url"]).path)}
        prepared.append(
            handler.prepare(
                workflow=delivery.workflow, event=delivery_event(delivery), message_id=message_id_for(delivery.uuid)
            )
        )
    plain_rates = []
    for _ in range(3):  # the machine may be shared: the median of three runs
        started = time.monotonic()
        outcomes = [handler.send(item) for item in prepared]
        plain_elapsed = time.monotonic() - started
        assert all(outcome.succeeded for outcome in outcomes)
        plain_rates.append(len(prepared) / plain_elapsed)
    plain_rate = statistics.median(plain_rates)
    print("plain loop (same payloads, signing, SSRF check and pinned client; one request after another):")
    print(f"  {plain_rate:8.1f} requests/s  (median of {', '.join(f'{rate:.0f}' for rate in plain_rates)})")
    for broker, (live_rate, drain_rate) in rates.items():
        print(f"{broker} broker: ratio drain/plain {drain_rate / plain_rate:.2f}  (target >= 0.5);  "
              f"live/plain {live_rate / plain_rate:.2f}")
    plain_sink.close()

    # --- with a failing sink --------------------------------------------------------------------------
    def failing(broker: str) -> bool:
        env = use_broker(broker)
        count = args.failing_engagements or args.engagements
        failing_sink = Sink(fail_ratio=args.fail_ratio, seed=7, port=args.sink_port)
        fresh_workflows(failing_sink)
        expected = count * args.workflows
        print(f"{broker} broker, failing: {count} engagements x {args.workflows} workflows, sink fails "
              f"{args.fail_ratio:.0%} of requests, retry schedule {retry_schedule} s, swept every second")
        with Cluster(env, log):
            time.sleep(2)
            committed = record(count, f"c{broker}")
            wait_delivered(failing_sink, expected, sweep=True)
        answers = Counter(request.headers["webhook-id"] for request in failing_sink.requests if request.status == 200)
        failures = sum(1 for request in failing_sink.requests if request.status != 200)
        statuses = Counter(Delivery.objects.values_list("status", flat=True))
        received = first_success(failing_sink)
        elapsed = max(received.values()) - min(committed.values())
        latencies = [received[key] - committed[key] for key in committed]
        lost = set(committed) - set(answers)
        twice = [key for key, n in answers.items() if n > 1]
        print(f"  {expected / elapsed:8.1f} deliveries/s  ({elapsed:.2f} s), {failures} failed requests retried")
        print(f"  latency p50 {percentile(latencies, 0.5) * 1000:7.1f} ms   "
              f"p99 {percentile(latencies, 0.99) * 1000:7.1f} ms")
        print(f"  statuses {dict(statuses)}; lost {len(lost)}; succeeded more than once {len(twice)}")
        failing_sink.close()
        return not lost and not twice and statuses.get(DeliveryStatus.SUCCEEDED) == expected

    return 0 if all([failing(broker) for broker in brokers]) else 1

if __name__ == "__main__":
    sys.exit(main())
