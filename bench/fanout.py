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

  --broker orm|redis|both (default both) runs live, drain and failing on the django-q2 ORM broker (the
  default, tasks in PostgreSQL) and/or the Redis broker (Q_BROKER_URL, on --redis-url), against the one plain
  loop: both ratios come from the same run.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/fanout.py \
      --engagements 1000 --workflows 5 --workers 2
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from common import bench_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Cluster:
    """`manage.py qcluster` with the benchmark's settings, in its own process group."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc):
        import signal

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
    parser.add_argument("--poll", type=float, default=0.1, help="Q_POLL of the cluster (seconds)")
    parser.add_argument("--producers", type=int, default=4, help="threads recording engagements")
    parser.add_argument("--fail-ratio", type=float, default=0.2)
    parser.add_argument("--failing-engagements", type=int, default=None, help="default: --engagements")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each phase")
    parser.add_argument("--database", default="salesassist_bench_fanout")
    parser.add_argument("--broker", choices=["orm", "redis", "both"], default="both")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="the Redis broker's (emptied)")
    args = parser.parse_args()

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
    cluster_env = {**os.environ, "Q_WORKERS": str(args.workers), "Q_POLL": str(args.poll), "Q_SYNC": "false"}

    import django

    django.setup()
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
        if broker == "redis":
            get_broker().delete_queue()
        return {**cluster_env, "Q_BROKER_URL": args.redis_url if broker == "redis" else ""}

    def fresh_workflows(sink: Sink) -> None:
        Delivery.objects.all().delete()
        Workflow.objects.update(is_active=False)
        setup_workflows(sink)

    expected = args.engagements * args.workflows
    print(f"{args.engagements} engagements x {args.workflows} workflows = {expected} deliveries; qcluster with "
          f"{args.workers} worker processes, poll {args.poll} s; 2 cores shared by everything")

    brokers = ["orm", "redis"] if args.broker == "both" else [args.broker]

    def live_and_drain(broker: str) -> tuple[float, float]:
        env = use_broker(broker)
        # --- 1. live: engagements recorded while the cluster delivers ---------------------------------------
        sink = Sink()
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
        sink = Sink()
        fresh_workflows(sink)
        committed = record(args.engagements, f"b{broker}")
        with Cluster(env, log):
            wait_delivered(sink, expected, sweep=False)
        received = sorted(first_success(sink).values())
        assert len(received) == expected, "a delivery is missing"
        drain_rate = (expected - 1) / (received[-1] - received[0])
        print(f"{broker} broker, drain (a backlog of recorded engagements, nothing else running):")
        print(f"  {drain_rate:8.1f} deliveries/s  (first -> last delivery {received[-1] - received[0]:.2f} s)")
        return live_rate, drain_rate

    rates = {broker: live_and_drain(broker) for broker in brokers}

    # --- 3. the same signed requests in a plain loop -----------------------------------------------------
    plain_sink = Sink()
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
        failing_sink = Sink(fail_ratio=args.fail_ratio, seed=7)
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
