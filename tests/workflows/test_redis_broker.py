"""The django-q2 Redis broker (Q_BROKER_URL), with a real `manage.py qcluster` / `manage.py worker` on the
PostgreSQL test database and the real Redis on 127.0.0.1:6379: a delivery reaches the sink through the Redis
list, a task queued while no worker ran waits there for one, and the worker's liveness probe and the
/healthz heartbeat still work (the cluster's status lives in the broker's Redis, not in the cache)."""
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import redis
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from salesassist.core.health import health_status
from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.test_worker import BASE_DIR, QCluster, wait_until
from workflows.choices import DeliveryStatus
from workflows.models import Delivery, DeliveryAttempt

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a qcluster in another process needs a shared database: PostgreSQL",
    ),
]

# A database of its own on the shared Redis: the cache and throttle tests use 13 and 14.
# A test process of its own (pytest-xdist's second) takes 15, so two never share the broker's list.
BROKER_URL = f"redis://127.0.0.1:6379/{15 if os.environ.get('PYTEST_XDIST_WORKER') == 'gw1' else 12}"


@pytest.fixture
def redis_broker(monkeypatch):
    """This process queues through Redis too (django-q2 reads its Conf once, at import), on an empty list."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)
    monkeypatch.setattr(Conf, "REDIS", BROKER_URL)
    broker = get_broker()
    assert isinstance(broker, RedisBroker)
    broker.delete_queue()
    yield broker
    broker.delete_queue()


@pytest.fixture
def qcluster(tmp_path, redis_broker):
    cluster = QCluster(tmp_path)
    cluster.env["Q_BROKER_URL"] = BROKER_URL
    yield cluster
    cluster.stop()


def test_a_delivery_goes_through_the_redis_list_to_the_sink(company, sink, qcluster, redis_broker):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    attach_webhook(action_company, sink.url())
    qcluster.start()
    engagement = record_engagement(action_company)
    assert not OrmQ.objects.exists()  # not the database's queue

    (request,) = sink.wait_for(1, timeout=30)
    delivery = Delivery.objects.get(engagement=engagement)
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, message="success")
    assert request.headers["webhook-id"] == f"msg_{delivery.uuid.hex}"
    assert DeliveryAttempt.objects.filter(delivery=delivery, succeeded=True).count() == 1
    assert redis_broker.queue_size() == 0


def test_a_task_queued_while_no_worker_ran_waits_in_redis_and_is_delivered_once(company, sink, qcluster, redis_broker):
    from tests.action_engine.factories import ActionCompanyFactory

    action_company = ActionCompanyFactory(company=company)
    workflows = [attach_webhook(action_company, sink.url(f"/{n}")) for n in range(2)]
    engagement = record_engagement(action_company)
    assert redis_broker.queue_size() == 1  # one task for both deliveries, in Redis
    assert not OrmQ.objects.exists()
    assert Delivery.objects.filter(engagement=engagement).count() == len(workflows)

    qcluster.start()
    wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == len(workflows),
        timeout=30,
        message="both deliveries",
    )
    assert sorted(request.path for request in sink.requests) == ["/0", "/1"]
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == len(workflows)
    assert redis_broker.queue_size() == 0


def test_the_liveness_probe_and_the_heartbeat_work_on_the_redis_broker(settings, qcluster, client):
    """`manage.py worker` on the Redis broker with a process-local cache: the probe reads the cluster's
    status from the broker's Redis, and the heartbeat schedule runs (django-q2's scheduler queues it
    through Redis) so /healthz reports the worker ok."""
    from tests.core.test_health import get_health

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    Schedule.objects.create(
        name="worker-heartbeat",
        func="salesassist.core.health.worker_heartbeat",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=timezone.now() - timedelta(seconds=1),
    )
    assert health_status()["worker"]["status"] == "unknown"
    qcluster.process = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=BASE_DIR,
        env=qcluster.env,
        stdout=qcluster.log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def alive() -> bool:
        try:
            call_command("qcluster_alive")
        except CommandError:
            return False
        return True

    # Generous bounds: the cluster starts in seconds on a loaded machine; its scheduler first runs after ~15 s.
    wait_until(alive, timeout=60, message="the liveness probe to pass")
    wait_until(lambda: health_status()["worker"]["status"] == "ok", timeout=90, message="the heartbeat")
    assert get_health(client).json()["worker"]["status"] == "ok"

    qcluster.kill()
    wait_until(lambda: not alive(), timeout=15, message="the liveness probe to fail once the cluster is gone")


def test_an_unreachable_broker_passes_the_liveness_probe(monkeypatch, capsys):
    """As with an unreachable cache: restarting every worker brings no Redis back."""
    from tests.core.test_health import closed_port

    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{closed_port()}/0?socket_connect_timeout=0.5")
    with pytest.raises(redis.ConnectionError):
        get_broker().connection.ping()
    call_command("qcluster_alive")
    assert "cannot tell" in capsys.readouterr().out


# django-q2 reads its settings once, at import: a fresh process shows what the environment chooses.
SHOW_BROKER = (
    "import django; django.setup(); from django_q.brokers import get_broker; print(type(get_broker()).__name__)"
)


@pytest.mark.parametrize(("broker_url", "broker"), [("", "NotifiedORM"), (BROKER_URL, "Redis")], ids=["orm", "redis"])
def test_q_broker_url_chooses_the_broker_and_the_orm_is_the_default(broker_url, broker, tmp_path):
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_BROKER],
        cwd=BASE_DIR,
        # The ORM broker opens its database connection: this test's database.
        env={**QCluster(tmp_path).env, "DJANGO_SETTINGS_MODULE": "salesassist.settings", "Q_BROKER_URL": broker_url},
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [broker]
