from datetime import timedelta

import pytest
from django.utils import timezone
from django_hosts.resolvers import reverse_host

from salesassist.core.health import HEARTBEAT_NAME, worker_heartbeat
from salesassist.core.models import WorkerHeartbeat
from salesassist.hosts import DEFAULT

pytestmark = pytest.mark.django_db


def get_health(client):
    return client.get("/healthz", HTTP_HOST=reverse_host(DEFAULT))


def test_health_reports_unknown_worker_before_any_heartbeat(client):
    response = get_health(client)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": {"status": "ok"},
        "worker": {"status": "unknown", "last_heartbeat": None},
    }


def test_health_is_ok_after_a_heartbeat(client):
    worker_heartbeat()
    body = get_health(client).json()
    assert body["status"] == "ok"
    assert body["worker"]["status"] == "ok"


def test_health_reports_a_stale_worker(client):
    WorkerHeartbeat.objects.create(name=HEARTBEAT_NAME, beat_at=timezone.now() - timedelta(minutes=10))
    body = get_health(client).json()
    assert body["status"] == "degraded"
    assert body["worker"]["status"] == "stale"


def test_heartbeat_is_scheduled_by_a_migration():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="worker-heartbeat")
    assert schedule.func == "salesassist.core.health.worker_heartbeat"
    assert schedule.minutes == 1
