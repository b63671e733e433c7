"""django-q2 tasks of the CRM domain: thin calls of its services."""
from django.conf import settings

from .services import retention_apply


def retention_apply_scheduled() -> dict:
    """The hourly retention run: at most RETENTION_TASK_SECONDS of batches; the next run carries on."""
    report = retention_apply(seconds=settings.RETENTION_TASK_SECONDS)
    return {"rows": report.rows, "finished": report.finished}
