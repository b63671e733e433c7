"""The outbox: an event's deliveries written in its transaction, queued on commit, swept up when lost."""
import logging
import threading

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..choices import DeliveryStatus
from ..event_types import DELIVERY_DEAD, LEAD_CREATED, LEAD_ERASED, LEAD_UPDATED, engagement_event_type
from ..models import Delivery
from ..payloads import delivery_dead_payload, lead_erased_payload, lead_payload
from ..selectors import deliveries_due_ids, workflow_ids_for_engagement, workflows_for_event

logger = logging.getLogger(__name__)

SEND_TASK = "workflows.tasks.deliveries_send"
SWEEP_LIMIT = 5000


def engagement_fanout(*, engagement) -> list[Delivery]:
    """Write one pending Delivery per matching workflow, in the caller's (the engagement's) transaction.

    Their first attempt is queued when that transaction commits; if it rolls back there is nothing to
    send, and if the queueing is lost the sweeper finds the deliveries anyway.
    """
    workflow_ids = workflow_ids_for_engagement(engagement=engagement)
    if not workflow_ids:
        return []
    now = timezone.now()
    event_type = engagement_event_type(engagement.stage)
    return _deliveries_write(
        [
            Delivery(
                company_id=engagement.company_id,
                workflow_id=workflow_id,
                event_type=event_type,
                engagement=engagement,
                lead_id=engagement.lead_id,
                next_attempt_at=now,
                enqueued_at=now,
            )
            for workflow_id in workflow_ids
        ]
    )


def _deliveries_write(deliveries: list[Delivery]) -> list[Delivery]:
    """Insert the pending deliveries in the caller's transaction; queue their first attempt when it commits."""
    deliveries = Delivery.objects.bulk_create(deliveries)
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return deliveries


def _event_fanout(
    *, company_id: int, event_type: str, payload, lead_id: int | None = None, exclude_workflow_id: int | None = None
) -> list[Delivery]:
    """One pending delivery, carrying the body as it is now, per company workflow subscribed to the event type.

    `payload` is called only when some workflow subscribes: an event nobody listens to costs one query.
    """
    workflows = workflows_for_event(company_id=company_id, event=event_type, exclude_workflow_id=exclude_workflow_id)
    if not workflows:
        return []
    body = payload()
    now = timezone.now()
    return _deliveries_write(
        [
            Delivery(
                company_id=company_id,
                workflow=workflow,
                event_type=event_type,
                lead_id=lead_id,
                payload=body,
                next_attempt_at=now,
                enqueued_at=now,
            )
            for workflow in workflows
        ]
    )


def lead_created_fanout(*, lead, changed: list[str]) -> list[Delivery]:
    """`lead.created` for the company's subscribed workflows, in the lead's transaction (crm's lead_created)."""
    return _event_fanout(
        company_id=lead.company_id,
        event_type=LEAD_CREATED,
        lead_id=lead.pk,
        payload=lambda: lead_payload(event_type=LEAD_CREATED, lead=lead, changed=changed),
    )


def lead_updated_fanout(*, lead, changed: list[str]) -> list[Delivery]:
    """`lead.updated` for the company's subscribed workflows, in the lead's transaction (crm's lead_updated)."""
    return _event_fanout(
        company_id=lead.company_id,
        event_type=LEAD_UPDATED,
        lead_id=lead.pk,
        payload=lambda: lead_payload(event_type=LEAD_UPDATED, lead=lead, changed=changed),
    )


def lead_erased_fanout(*, lead, erased_at) -> list[Delivery]:
    """`lead.erased` (the lead's uuid, no personal data) for the company's subscribed workflows, in the
    erasure's transaction (crm's lead_erased)."""
    return _event_fanout(
        company_id=lead.company_id,
        event_type=LEAD_ERASED,
        lead_id=lead.pk,
        payload=lambda: lead_erased_payload(lead=lead, erased_at=erased_at),
    )


def delivery_dead_fanout(*, delivery: Delivery, died_at) -> list[Delivery]:
    """`delivery.dead` for the company's other workflows subscribed to it, in the transaction that marks the
    delivery dead. Never to the delivery's own workflow, and never for a `delivery.dead` delivery: two
    failing workflows subscribed to each other's deaths would otherwise feed each other forever."""
    if delivery.event_type == DELIVERY_DEAD:
        return []
    return _event_fanout(
        company_id=delivery.company_id,
        event_type=DELIVERY_DEAD,
        lead_id=delivery.lead_id,
        exclude_workflow_id=delivery.workflow_id,
        payload=lambda: delivery_dead_payload(delivery=delivery, died_at=died_at),
    )


def task_batch_size() -> int:
    """Deliveries one task may send: WORKFLOW_TASK_BATCH, at most three rounds of parallel sends, so a task
    whose every send times out (15 s) still ends within django-q2's 60 s task timeout."""
    return max(1, min(settings.WORKFLOW_TASK_BATCH, 3 * max(1, settings.WORKFLOW_SEND_CONCURRENCY)))


def deliveries_enqueue(*, delivery_ids: list[int], manual: bool = False, statuses: list[str] | None = None) -> int:
    """Queue worker tasks for the deliveries (ids only, a batch per task). Never raises: the sweeper is the net."""
    from django_q.tasks import async_task

    batch = task_batch_size()
    queued = 0
    for start in range(0, len(delivery_ids), batch):
        chunk = [int(pk) for pk in delivery_ids[start : start + batch]]
        try:
            async_task(
                SEND_TASK,
                chunk,
                manual,
                list(statuses) if statuses else None,
                # The Delivery rows are the record; django-q2 keeps only failed task runs.
                q_options={"task_name": f"deliveries-{chunk[0]}", "save": False},
            )
            queued += len(chunk)
        except Exception:
            logger.exception("Could not queue deliveries %s; the sweeper will pick them up", chunk)
            if not manual:
                Delivery.objects.filter(id__in=chunk).update(enqueued_at=None)
    return queued


def deliveries_retry_soon(*, deliveries: list[Delivery]) -> int:
    """Queue, from a timer in this process, the failed deliveries whose next attempt is due before the
    next sweep (within WORKFLOW_RETRY_TIMER_SECONDS). Best effort: if this process dies first, the
    sweeper queues them at its next run, and the lease keeps either from sending twice."""
    window = settings.WORKFLOW_RETRY_TIMER_SECONDS
    now = timezone.now()
    waits = {
        delivery.pk: (delivery.next_attempt_at - now).total_seconds()
        for delivery in deliveries
        if delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is not None
    }
    soon = {pk: max(0.0, wait) for pk, wait in waits.items() if wait <= window}
    if window <= 0 or not soon:
        return 0
    # One timer for the batch, when the last of them is due: the lease only takes deliveries that are due.
    timer = threading.Timer(max(soon.values()) + 0.05, _enqueue_from_timer, kwargs={"delivery_ids": list(soon)})
    timer.daemon = True
    timer.start()
    return len(soon)


def _enqueue_from_timer(*, delivery_ids: list[int]) -> None:
    try:
        deliveries_enqueue(delivery_ids=delivery_ids)
    finally:
        connection.close()  # this thread's own connection; nothing else will close it


def deliveries_sweep(*, limit: int = SWEEP_LIMIT) -> int:
    """Queue every delivery that is due, or whose worker died (lease ran out), or whose task was lost."""
    now = timezone.now()
    delivery_ids = deliveries_due_ids(
        now=now, requeue_after_seconds=settings.WORKFLOW_REQUEUE_AFTER_SECONDS, limit=limit
    )
    if not delivery_ids:
        return 0
    Delivery.objects.filter(id__in=delivery_ids).update(enqueued_at=now)
    return deliveries_enqueue(delivery_ids=delivery_ids)
