"""`manage.py worker` on SIGTERM, as a real process on the PostgreSQL test database sending to a real slow sink:
it takes no new deliveries, finishes or releases the one in flight within its grace period, and exits."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_q.models import OrmQ

from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.sink import Reply
from tests.workflows.test_worker import QCluster, wait_until
from workflows.choices import DeliveryStatus
from workflows.models import Delivery, DeliveryAttempt

BASE_DIR = Path(settings.BASE_DIR)
GRACE_SECONDS = 2
# Exiting is bounded by the grace period plus the stop's margins; the failure mode is hanging for good
# (django-q2 issue 346), so a generous bound does not hide it.
EXIT_BOUND_SECONDS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a worker in another process needs a shared database: PostgreSQL",
    ),
]


class Worker(QCluster):
    """`manage.py worker` in its own process group, on this test database, with a short grace period."""

    command = "worker"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        # The default lease and retry schedule: a delivery released at shutdown must not also expire.
        del self.env["WORKFLOW_LEASE_SECONDS"], self.env["WORKFLOW_RETRY_SCHEDULE"]
        self.env["WORKER_SHUTDOWN_GRACE_SECONDS"] = str(GRACE_SECONDS)

    def wait_running(self):
        wait_until(lambda: "running." in self.log.read_text(errors="replace"), message="the cluster to run")

    def terminate(self, *, group: bool) -> float:
        """SIGTERM to the main process only (Kubernetes: PID 1) or to its whole group (./dev, Ctrl-C in a
        terminal); the seconds it took to exit."""
        started = time.monotonic()
        if group:
            os.killpg(self.process.pid, signal.SIGTERM)
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=EXIT_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not exit:\n{self.log.read_text(errors='replace')}") from None
        return time.monotonic() - started

    def no_process_left(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def stop(self):
        if self.process and not self.no_process_left():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def worker(tmp_path):
    process = Worker(tmp_path)
    yield process
    process.stop()


def _one_delivery(company, sink):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    engagement = record_engagement(action_company)  # commits: the first attempt is queued
    return Delivery.objects.get(engagement=engagement)


def test_an_idle_worker_exits_promptly_on_sigterm(worker):
    worker.start()
    worker.wait_running()
    worker.terminate(group=False)
    assert worker.process.returncode == 0
    wait_until(worker.no_process_left, timeout=5, message="the cluster's processes to end")


def test_a_send_that_ends_within_the_grace_period_is_finished_and_recorded_once(company, sink, worker):
    sink.script(Reply(200, delay=1))
    delivery = _one_delivery(company, sink)
    worker.start()
    sink.wait_for(1, timeout=30)
    worker.terminate(group=True)  # every process of the cluster gets it, as from ./dev or a terminal

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.leased_until is None and delivery.attempts == 1
    assert list(DeliveryAttempt.objects.values_list("number", "succeeded")) == [(1, True)]
    assert len(sink.requests) == 1
    wait_until(worker.no_process_left, timeout=5, message="the cluster's processes to end")


def test_a_send_still_running_at_the_end_of_the_grace_period_is_released_and_sent_once_by_the_next_worker(
    company, sink, worker
):
    sink.script(Reply(200, delay=60), Reply(200))
    delivery = _one_delivery(company, sink)
    worker.start()
    sink.wait_for(1, timeout=30)
    took = worker.terminate(group=False)  # the main process only, as Kubernetes sends it to PID 1
    assert took >= GRACE_SECONDS  # it waited for the send before giving it up

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.leased_until is None and delivery.lease_token is None
    assert delivery.attempts == 0 and delivery.scheduled_attempts == 0  # the unfinished attempt was given back
    assert not DeliveryAttempt.objects.exists()
    # Its task was done (acknowledged) and a new one queued for another worker, not left for the sweeper.
    assert OrmQ.objects.count() == 1
    wait_until(worker.no_process_left, timeout=5, message="the cluster's processes to end")

    worker.start()  # another worker
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, message="delivery")
    assert list(DeliveryAttempt.objects.values_list("number", "succeeded")) == [(1, True)]
    first, second = sink.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{delivery.uuid.hex}"
