"""Health of the parts a request depends on: the database, the cache and the django-q2 worker."""
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .models import WorkerHeartbeat

HEARTBEAT_NAME = "qcluster"
# The heartbeat schedule runs every minute; three missed beats mean no worker is running it.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)
# The readiness query gives up after this long (a probe's own timeout is a few seconds).
READINESS_QUERY_TIMEOUT_MS = 2000


def worker_heartbeat() -> None:
    """A django-q2 scheduled task: record that a worker is alive."""
    WorkerHeartbeat.objects.update_or_create(name=HEARTBEAT_NAME, defaults={"beat_at": timezone.now()})


def health_status() -> dict:
    """{"status": ok|degraded|down, "database": {...}, "worker": {...}}; down only if the database is."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = {"status": "ok"}
    except DatabaseError as exc:
        return {"status": "down", "database": {"status": "down", "error": exc.__class__.__name__}, "worker": None}

    beat = WorkerHeartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("beat_at", flat=True).first()
    if beat is None:
        worker = {"status": "unknown", "last_heartbeat": None, "age_seconds": None}
    else:
        age = timezone.now() - beat
        worker = {
            "status": "ok" if age <= HEARTBEAT_STALE_AFTER else "stale",
            "last_heartbeat": beat.isoformat(),
            "age_seconds": round(age.total_seconds(), 1),
        }
    return {
        "status": "ok" if worker["status"] == "ok" else "degraded",
        "database": database,
        "worker": worker,
    }


def readiness_failures() -> dict[str, list[str]]:
    """What keeps this process from serving requests: {"database" or "cache": [reason]}; empty when ready.

    A real query and a real cache round trip, each with a short timeout (the cache's are CACHE_TIMEOUT_SECONDS,
    the database's connect timeout DATABASE_CONNECT_TIMEOUT). The worker is not asked: web pods serve without it.
    """
    failures = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL statement_timeout = {READINESS_QUERY_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        failures["database"] = [f"unreachable ({exc.__class__.__name__})"]
    # A key of this call's own, so neither a concurrent probe nor a value left over can pass for this one.
    key = f"healthz:ready:{secrets.token_hex(8)}"
    try:
        cache.set(key, "ok", timeout=10)
        if cache.get(key) != "ok":
            failures["cache"] = ["a value written was not read back"]
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - every backend raises its own errors (redis, memcached, OS errors).
        failures["cache"] = [f"unreachable ({exc.__class__.__name__})"]
    return failures
