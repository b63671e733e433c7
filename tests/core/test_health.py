import socket
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_hosts.resolvers import reverse_host

from salesassist.core.health import HEARTBEAT_NAME, worker_heartbeat
from salesassist.core.models import WorkerHeartbeat
from salesassist.hosts import DEFAULT

pytestmark = pytest.mark.django_db


REDIS_URL = "redis://127.0.0.1:6379/14"


def get_health(client, path="/healthz", **extra):
    return client.get(path, HTTP_HOST=reverse_host(DEFAULT), **extra)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_cache(settings):
    """The default cache is the real Redis on 127.0.0.1:6379, as CACHE_URL=redis://… makes it in production."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    client.ping()  # CI starts Redis (.ci/run): a machine without it fails here, plainly.
    prefix = f"health-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    }
    yield client, prefix
    client.close()


def test_health_reports_unknown_worker_before_any_heartbeat(client):
    response = get_health(client)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": {"status": "ok"},
        "worker": {"status": "unknown", "last_heartbeat": None, "age_seconds": None},
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
    assert 600 <= body["worker"]["age_seconds"] < 660


def test_heartbeat_is_scheduled_by_a_migration():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="worker-heartbeat")
    assert schedule.func == "salesassist.core.health.worker_heartbeat"
    assert schedule.minutes == 1


def test_live_answers_ok_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = get_health(client, "/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_with_the_real_database_and_redis(client, redis_cache):
    redis_client, prefix = redis_cache
    response = get_health(client, "/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"status": "ok"}, "cache": {"status": "ok"}}
    # The round trip cleans up after itself: probes every few seconds leave no keys behind.
    assert list(redis_client.scan_iter(match=f"{prefix}:*")) == []


def test_ready_does_not_wait_for_a_worker(client, redis_cache):
    WorkerHeartbeat.objects.create(name=HEARTBEAT_NAME, beat_at=timezone.now() - timedelta(hours=1))
    assert get_health(client, "/healthz/ready").status_code == 200
    assert get_health(client, "/healthz").json()["status"] == "degraded"


def test_ready_answers_a_503_problem_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = get_health(client, "/healthz/ready")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:salesassist:problem:not_ready"
    assert body["status"] == 503
    assert set(body["errors"]) == {"cache"}
    assert "cache" in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_ready_answers_a_503_problem_when_the_database_is_unreachable(client, redis_cache):
    if connection.vendor != "postgresql":
        pytest.skip("Made unreachable by its port; the SQLite test database is in memory and never closed.")
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        response = get_health(client, "/healthz/ready")
        health = get_health(client)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "urn:salesassist:problem:not_ready"
    assert body["errors"] == {"database": ["unreachable (OperationalError)"]}
    assert health.status_code == 503


@pytest.mark.parametrize("path", ["/healthz", "/healthz/live", "/healthz/ready"])
def test_health_checks_are_exempt_from_the_https_redirect(client, settings, redis_cache, path):
    # Probes call the pod over plain HTTP without the ingress's X-Forwarded-Proto.
    settings.SECURE_SSL_REDIRECT = True
    assert get_health(client, path).status_code == 200
    assert get_health(client, "/").status_code == 301
