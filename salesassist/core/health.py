"""Health of the parts a request depends on: the database and the django-q2 worker."""
from datetime import timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

from .models import WorkerHeartbeat

HEARTBEAT_NAME = "qcluster"
# The heartbeat schedule runs every minute; three missed beats mean no worker is running it.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


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
        worker = {"status": "unknown", "last_heartbeat": None}
    else:
        fresh = timezone.now() - beat <= HEARTBEAT_STALE_AFTER
        worker = {"status": "ok" if fresh else "stale", "last_heartbeat": beat.isoformat()}
    return {
        "status": "ok" if worker["status"] == "ok" else "degraded",
        "database": database,
        "worker": worker,
    }
