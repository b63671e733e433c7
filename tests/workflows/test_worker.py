"""With a real django-q2 worker (`manage.py qcluster`) on the PostgreSQL test database: a worker killed
mid-delivery, a lost task and a committed engagement are all delivered, exactly once; and concurrent
workers (threads with their own connections) never lease the same delivery twice."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import OrmQ

from tests.processes import database_url_for_processes
from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus
from workflows.models import Delivery, DeliveryAttempt
from workflows.services import deliveries_sweep

BASE_DIR = Path(settings.BASE_DIR)
LEASE_SECONDS = 2

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a qcluster in another process needs a shared database: PostgreSQL",
    ),
]


class QCluster:
    """`manage.py qcluster` in its own process group, on this test database."""

    command = "qcluster"

    def __init__(self, tmp_path: Path):
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_for_processes(),
            "SECRET_KEY": settings.SECRET_KEY,  # tasks are signed with it
            "WORKFLOW_ALLOW_PRIVATE_TARGETS": "true",
            "WORKFLOW_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKFLOW_RETRY_SCHEDULE": "0,0,0",
            "Q_WORKERS": "1",
            "Q_POLL": "0.1",
            "Q_SYNC": "false",
            "CONN_MAX_AGE": "0",
        }
        self.log = tmp_path / f"{self.command}.log"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", self.command],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """kill -9 the whole cluster: sentinel, pusher, monitor and workers."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        # No graceful shutdown needed: the test database is flushed after each of these tests.
        if self.process and self.process.poll() is None:
            self.kill()


@pytest.fixture
def qcluster(tmp_path):
    cluster = QCluster(tmp_path)
    yield cluster
    cluster.stop()


def wait_until(predicate, timeout: float = 20.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def test_a_worker_killed_mid_delivery_and_the_sweeper_delivers_exactly_once(company, sink, qcluster):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    sink.script(Reply(200, delay=30))  # the first send hangs: the worker is killed meanwhile

    engagement = record_engagement(action_company)  # commits: the first attempt is queued
    delivery = Delivery.objects.get(engagement=engagement)
    qcluster.start()
    sink.wait_for(1, timeout=30)
    assert len(sink.requests) == 1
    qcluster.kill()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and delivery.leased_until
    assert not DeliveryAttempt.objects.exists()
    assert deliveries_sweep() == 0  # still leased to the dead worker
    time.sleep(LEASE_SECONDS + 0.5)
    assert deliveries_sweep() == 1

    qcluster.start()
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, message="the redelivery"
    )
    assert DeliveryAttempt.objects.filter(delivery=delivery, succeeded=True).count() == 1
    assert DeliveryAttempt.objects.get(delivery=delivery).number == 2
    first, second = sink.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{delivery.uuid.hex}"


def test_a_lost_task_is_swept_up_and_delivered_once(company, sink, qcluster):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    engagement = record_engagement(action_company)
    assert OrmQ.objects.count() == 1
    OrmQ.objects.all().delete()  # the queue lost the task
    assert deliveries_sweep() == 0  # its task may just be slow: left alone for WORKFLOW_REQUEUE_AFTER_SECONDS
    Delivery.objects.update(enqueued_at=timezone.now() - timedelta(seconds=settings.WORKFLOW_REQUEUE_AFTER_SECONDS + 1))

    assert deliveries_sweep() == 1
    assert deliveries_sweep() == 0  # queued once, not again while its task waits
    qcluster.start()
    delivery = Delivery.objects.get(engagement=engagement)
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, message="delivery")
    time.sleep(1)
    assert len(sink.requests) == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_committed_engagements_are_delivered_and_rolled_back_ones_never(company, sink, qcluster):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    workflows = [attach_webhook(action_company, sink.url(f"/{n}")) for n in range(3)]
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            record_engagement(action_company)
            raise RuntimeError("rolled back after the fan-out")
    assert not Delivery.objects.exists() and not OrmQ.objects.exists()

    committed = [record_engagement(action_company) for _ in range(4)]
    assert Delivery.objects.count() == 12
    qcluster.start()
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 12, message="12 deliveries")
    assert len(sink.requests) == 12
    engagement_uuids = {str(e.uuid) for e in committed}
    from standardwebhooks.webhooks import Webhook

    for request in sink.requests:
        workflow = workflows[int(request.path.strip("/"))]
        assert Webhook(workflow.secret).verify(request.body, request.headers)["data"]["engagement"]["uuid"] in (
            engagement_uuids
        )


def test_two_workers_racing_for_the_same_deliveries_send_each_once(company, sink):
    """Eight threads (each its own database connection) lease the same ten deliveries at once."""
    import threading

    from django.db import connections

    from tests.action_engine.factories import ActionCompanyFactory
    from workflows.services import deliveries_attempt

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    sink.default = Reply(200, delay=0.2)  # long enough for every thread to try while the first sends
    with transaction.atomic():
        Delivery.objects.all().delete()
    engagements = [record_engagement(action_company) for _ in range(10)]
    OrmQ.objects.all().delete()  # no worker here: the threads are the workers
    ids = list(Delivery.objects.filter(engagement__in=engagements).values_list("id", flat=True))
    barrier = threading.Barrier(8)
    sent = []

    def worker(fill_to):
        try:
            barrier.wait()
            sent.extend(a.delivery_id for a in deliveries_attempt(delivery_ids=ids[:3], fill_to=fill_to))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(sent) == sorted(ids)  # the seven fill up to 7 each: every delivery taken exactly once
    assert len(sink.requests) == 10
    assert len({request.headers["webhook-id"] for request in sink.requests}) == 10
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 10


def test_a_short_retry_is_sent_after_its_delay_not_at_the_next_sweep(company, sink, qcluster):
    """The schedule's 5 s step: the worker that saw the failure queues the retry itself. There is no
    sweeper schedule in this flushed test database, so only that timer can bring the second attempt."""
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    sink.script(Reply(503), Reply(200))
    qcluster.env.update(WORKFLOW_RETRY_SCHEDULE="0,3,3", WORKFLOW_RETRY_TIMER_SECONDS="60")

    engagement = record_engagement(action_company)
    qcluster.start()
    first, second = sink.wait_for(2, timeout=30)

    delivery = Delivery.objects.get(engagement=engagement)
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, message="success")
    # 3 s ± 20 % jitter, plus the queue's polling: well before django-q2 would run a schedule (~30 s).
    assert 2.4 <= second.received_at - first.received_at < 10
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_the_worker_serves_the_metrics_of_its_forked_workers(company, sink, tmp_path):
    """`manage.py worker` in multiprocess mode: an attempt made in a django-q2 worker process shows up on the
    port the cluster's main process serves."""
    import socket

    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from tests.action_engine.factories import ActionCompanyFactory

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = QCluster(tmp_path)
    cluster.env.update(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        WORKER_METRICS_PORT=str(port),
        WORKER_METRICS_ADDRESS="127.0.0.1",
        METRICS_TOKEN="worker-token",
    )
    cluster.process = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=BASE_DIR,
        env=cluster.env,
        stdout=cluster.log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        action_company = ActionCompanyFactory(company=company)
        attach_webhook(action_company, sink.url())
        record_engagement(action_company)
        sink.wait_for(1, timeout=30)

        def succeeded_attempts() -> float:
            response = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer worker-token"})
            assert response.status_code == 200
            return sum(
                sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
                if sample.name == "salesassist_delivery_attempts_total" and sample.labels == {"outcome": "succeeded"}
            )

        wait_until(lambda: succeeded_attempts() == 1, message="the attempt in the worker's metrics")
        refused = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    finally:
        cluster.stop()


def test_a_worker_delivers_slack_and_templated_http_workflows(company, sink, qcluster):
    from standardwebhooks.webhooks import Webhook

    from tests.action_engine.factories import ActionCompanyFactory
    from tests.workflows.factories import ActionCompanyWorkflowFactory, WorkflowFactory
    from workflows.choices import WorkflowKind

    action_company = ActionCompanyFactory(company=company)
    slack = WorkflowFactory(
        company=company, kind=WorkflowKind.SLACK, secret="", config={"url": sink.url("/slack"), "text": "{{ type }}"}
    )
    http = WorkflowFactory(
        company=company,
        kind=WorkflowKind.HTTP,
        config={"url": sink.url("/crm"), "method": "PUT", "template": {"email": "{{ data.lead.email }}"}},
    )
    for workflow in (slack, http):
        ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    engagement = record_engagement(action_company)

    qcluster.start()
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2, message="2 deliveries")
    by_path = {request.path: request for request in sink.requests}
    assert by_path["/slack"].body == b'{"text":"engagement.submitted"}'
    assert by_path["/crm"].method == "PUT"
    assert by_path["/crm"].body == f'{{"email":"{engagement.lead.email}"}}'.encode()
    Webhook(http.secret).verify(by_path["/crm"].body, by_path["/crm"].headers)
