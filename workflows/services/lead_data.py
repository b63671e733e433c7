"""The workflows' part of a lead's data (crm/lead_data.py): the deliveries of its engagements and every
attempt with what it sent and got back. Registered in WorkflowsConfig.ready()."""
from django.db.models import Prefetch
from django.utils import timezone

from crm.lead_data import EXPORT_CHUNK_SIZE, LeadDataSection, LeadIdentity
from crm.models import Lead

from ..choices import DeliveryStatus
from ..models import Delivery, DeliveryAttempt

# Deliveries not sent (or to be sent again by a replay): an erased lead's data must never leave.
UNSENT_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.DEAD)


def _attempt_document(attempt: DeliveryAttempt) -> dict:
    return {
        "number": attempt.number,
        "is_manual": attempt.is_manual,
        "request_url": attempt.request_url,
        "request_headers": attempt.request_headers,
        "request_body": attempt.request_body,
        "response_status": attempt.response_status,
        "response_headers": attempt.response_headers,
        "response_body": attempt.response_body,
        "duration_ms": attempt.duration_ms,
        "error_class": attempt.error_class,
        "error_message": attempt.error_message,
        "succeeded": attempt.succeeded,
        "created_at": attempt.created_at,
    }


def _deliveries_export(*, lead: Lead):
    deliveries = (
        Delivery.objects.filter(engagement__lead=lead)
        .select_related("workflow", "engagement")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number")))
        .order_by("id")
    )
    for delivery in deliveries.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "uuid": delivery.uuid,
            "workflow": delivery.workflow.uuid,
            "engagement": delivery.engagement.uuid,
            "status": delivery.status,
            "attempts": [_attempt_document(attempt) for attempt in delivery.attempt_log.all()],
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "succeeded_at": delivery.succeeded_at,
            "created_at": delivery.created_at,
        }


def _deliveries_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    now = timezone.now()
    deliveries = Delivery.objects.filter(engagement__lead=lead)
    attempts = DeliveryAttempt.objects.filter(delivery__in=deliveries).update(
        request_headers={}, request_body="", response_headers={}, response_body="", error_message="", updated_at=now
    )
    deliveries.filter(status__in=UNSENT_STATUSES).update(
        status=DeliveryStatus.CANCELLED, next_attempt_at=None, leased_until=None, lease_token=None, enqueued_at=None
    )
    changed = deliveries.update(last_error="", updated_at=now)
    return {Delivery._meta.label: changed, DeliveryAttempt._meta.label: attempts}


WORKFLOWS_LEAD_DATA_SECTIONS = (
    LeadDataSection(name="deliveries", export=_deliveries_export, erase=_deliveries_erase),
)
