"""The workflows' part of a lead's data (crm/lead_data.py): the deliveries of its engagements and of its lead
events (with the snapshot of the lead each carries), and every attempt with what it sent and got back.
Registered in WorkflowsConfig.ready()."""
import copy

from django.db.models import Prefetch, Q
from django.utils import timezone

from crm.lead_data import EXPORT_CHUNK_SIZE, LeadDataSection, LeadIdentity
from crm.models import Lead
from crm.services import lead_personal_data_blank

from ..choices import DeliveryStatus
from ..models import Delivery, DeliveryAttempt
from ..payloads import lead_data

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


def _lead_deliveries(lead: Lead):
    """Its engagements' deliveries and its lead events' (those name the lead and carry a snapshot of it)."""
    return Delivery.objects.filter(Q(engagement__lead=lead) | Q(lead=lead))


def _deliveries_export(*, lead: Lead):
    deliveries = (
        _lead_deliveries(lead)
        .select_related("workflow", "engagement")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number")))
        .order_by("id")
    )
    for delivery in deliveries.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "uuid": delivery.uuid,
            "workflow": delivery.workflow.uuid,
            "event_type": delivery.event_type,
            "engagement": delivery.engagement.uuid if delivery.engagement_id else None,
            "payload": delivery.payload,
            "status": delivery.status,
            "attempts": [_attempt_document(attempt) for attempt in delivery.attempt_log.all()],
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "succeeded_at": delivery.succeeded_at,
            "created_at": delivery.created_at,
        }


def _deliveries_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    now = timezone.now()
    deliveries = _lead_deliveries(lead)
    attempts = DeliveryAttempt.objects.filter(delivery__in=deliveries).update(
        request_headers={}, request_body="", response_headers={}, response_body="", error_message="", updated_at=now
    )
    deliveries.filter(status__in=UNSENT_STATUSES).update(
        status=DeliveryStatus.CANCELLED, next_attempt_at=None, leased_until=None, lease_token=None, enqueued_at=None
    )
    changed = deliveries.update(last_error="", updated_at=now)
    # A lead event's snapshot holds the lead as it was: it becomes the lead as the erasure leaves it (a replay
    # sends no personal data either).
    anonymous = lead_data(lead_personal_data_blank(copy.copy(lead)))
    snapshots = list(deliveries.filter(lead=lead, payload__isnull=False).only("id", "payload"))
    for delivery in snapshots:
        if isinstance(delivery.payload.get("data"), dict) and "lead" in delivery.payload["data"]:
            delivery.payload["data"]["lead"] = anonymous
    Delivery.objects.bulk_update(snapshots, ["payload"])
    return {Delivery._meta.label: changed, DeliveryAttempt._meta.label: attempts}


WORKFLOWS_LEAD_DATA_SECTIONS = (
    LeadDataSection(name="deliveries", export=_deliveries_export, erase=_deliveries_erase),
)
