"""Attempts: leasing due deliveries, sending them from a thread pool, logging each attempt, finishing the lease."""
import logging
import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from salesassist.core.metrics import delivery_attempt_observed
from salesassist.core.parsers import storable_text
from salesassist.core.shutdown import GracePeriodOver, interruptible, stop_requested
from salesassist.core.webhook_signing import message_id_for

from ..choices import AttemptError, DeliveryStatus
from ..kinds import AttemptOutcome, kind_handler
from ..models import Delivery, DeliveryAttempt, Workflow
from ..payloads import engagement_payload
from ..selectors import DUE_STATUSES, deliveries_for_sending, sendable_workflow_ids
from .fanout import delivery_dead_fanout
from .notifications import workflows_pause_failing
from .retry import next_state

logger = logging.getLogger(__name__)

# Jitter for retry delays, from the system's randomness: no generator state for forked workers to share.
_jitter = random.SystemRandom()


def _relaxed_commit() -> None:
    """Inside a worker's transaction: commit without waiting for the WAL flush (PostgreSQL).

    Safe here because delivery is at least once: if the database server crashed and lost this commit,
    the delivery would only be leased and sent again, and receivers de-duplicate on webhook-id. It saves
    a disk flush per write, which is most of a worker's time. The outbox itself (the engagement's
    transaction) is never relaxed.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _deliveries_lease(
    *, delivery_ids: list[int], manual: bool, statuses, fill_to: int = 0
) -> tuple[uuid.UUID, list[Delivery]]:
    """Take the deliveries that are free, in one atomic UPDATE; a second worker's UPDATE finds none of them.

    Every condition is on the delivery row itself (the workflow check is a subquery, not a join), so
    PostgreSQL re-checks them on the latest row version when two workers race for the same row.
    With `fill_to`, an automatic attempt also takes other due deliveries, up to that many in all: under a
    backlog each task sends a full batch, and the tasks queued for the deliveries it took find nothing
    left to do.
    """
    now = timezone.now()
    token = uuid.uuid4()
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    if manual:
        # A replay takes any status but one: an erased lead's deliveries are never sent again (nor cancelled ones).
        candidates = Delivery.objects.filter(
            free, id__in=delivery_ids, workflow_id__in=Workflow.objects.values("id"), engagement__lead__erasure=None
        ).exclude(status=DeliveryStatus.CANCELLED)
        if statuses:
            candidates = candidates.filter(status__in=statuses)
    else:
        due = Q(status__in=DUE_STATUSES, next_attempt_at__lte=now, workflow_id__in=sendable_workflow_ids())
        candidates = None
    changes = {
        "leased_until": now + timedelta(seconds=settings.WORKFLOW_LEASE_SECONDS),
        "lease_token": token,
        "enqueued_at": None,
        # Counted when taken, so an attempt that kills its worker still uses up a place in the schedule.
        "attempts": F("attempts") + 1,
    }
    if not manual:
        changes["scheduled_attempts"] = F("scheduled_attempts") + 1
    with transaction.atomic():
        _relaxed_commit()
        if candidates is None:
            # The selection is read first, in this transaction (its rows stay locked until the commit): as
            # a subquery of the UPDATE, PostgreSQL may run a LIMIT ... SKIP LOCKED again and take more.
            chosen = _lockable(Delivery.objects.filter(free, due, id__in=delivery_ids))
            room = fill_to - len(chosen)
            if room > 0:
                # Any due rows will do (no ORDER BY, so no sort of the whole backlog): each is queued on
                # its own anyway, and the sweeper picks oldest first.
                chosen += _lockable(Delivery.objects.filter(free, due).exclude(id__in=chosen), limit=room)
            candidates = Delivery.objects.filter(free, due, id__in=chosen)
        leased = candidates.update(**changes)
    if not leased:
        return token, []
    return token, deliveries_for_sending(lease_token=token)


def _lockable(queryset, *, limit: int | None = None) -> list[int]:
    """Ids of the rows, locked for this transaction; on PostgreSQL rows another worker is leasing are
    skipped, never waited for, so two workers whose batches overlap neither block nor deadlock."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    ids = queryset.order_by().values_list("id", flat=True)
    return list(ids[:limit] if limit else ids)


_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _send_executor() -> ThreadPoolExecutor:
    """A thread pool per process (made after django-q2 forks its workers, never inherited)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(
                max_workers=max(1, settings.WORKFLOW_SEND_CONCURRENCY), thread_name_prefix="workflow-send"
            )
            _executor_pid = os.getpid()
        return _executor


def delivery_event(delivery: Delivery) -> dict:
    """The body the delivery sends: its snapshot, or, for an engagement event, built from the engagement."""
    if delivery.payload is not None:
        return delivery.payload
    return engagement_payload(engagement=delivery.engagement)


def _prepare(delivery: Delivery):
    """The kind's send, ready to run without the database; or the outcome that explains why not."""
    try:
        handler = kind_handler(delivery.workflow.kind)
        prepared = handler.prepare(
            workflow=delivery.workflow, event=delivery_event(delivery), message_id=message_id_for(delivery.uuid)
        )
    except Exception as exc:
        logger.exception("Could not prepare delivery %s", delivery.uuid)
        return None, AttemptOutcome(
            succeeded=False,
            error_class=AttemptError.INTERNAL,
            error_message=f"{exc.__class__.__name__}: {exc}",
        )
    return (handler, prepared), None


def _send_all(deliveries: list[Delivery]) -> list[AttemptOutcome]:
    """Send each leased delivery, in parallel threads when there are several."""
    jobs = [_prepare(delivery) for delivery in deliveries]

    def run(job) -> AttemptOutcome:
        ready, failed = job
        if failed is not None:
            return failed
        handler, prepared = ready
        return handler.send(prepared)

    if len(jobs) == 1:
        return [run(jobs[0])]
    return list(_send_executor().map(run, jobs))


def _storable(value):
    """What an attempt stores, as the database can keep it: a NUL byte (which PostgreSQL refuses in text and
    in jsonb) becomes the text \\u0000, in strings and in the keys and values of JSON objects alike."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {_storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(item) for item in value]
    return value


def deliveries_attempt(
    *, delivery_ids: list[int], manual: bool = False, statuses: list[str] | None = None, fill_to: int = 0
) -> list[DeliveryAttempt]:
    """Lease the deliveries, send each once, log every attempt and move each delivery's retry state.

    Automatic attempts only take deliveries that are due (plus other due ones up to `fill_to`); a manual
    one (a replay) takes any free delivery of the given statuses and does not change its schedule unless
    it succeeds.
    """
    if stop_requested():
        # A task still queued in a stopping worker: it takes nothing and hands its deliveries back.
        raise DeliveriesReleased(list(delivery_ids))
    token, deliveries = _deliveries_lease(
        delivery_ids=delivery_ids, manual=manual, statuses=statuses, fill_to=0 if manual else fill_to
    )
    if not deliveries:
        return []
    try:
        with interruptible():
            outcomes = _send_all(deliveries)
    except GracePeriodOver:
        raise DeliveriesReleased(_deliveries_release(lease_token=token, deliveries=deliveries, manual=manual))
    now = timezone.now()
    attempts, finished, died = [], {}, []
    recovered_workflows, failing_workflows, gone_workflows, pause_candidates = set(), set(), set(), set()
    pause_cutoff = now - timedelta(hours=settings.WORKFLOW_PAUSE_AFTER_HOURS)
    for delivery, outcome in zip(deliveries, outcomes):
        attempts.append(
            DeliveryAttempt(
                delivery=delivery,
                number=delivery.attempts,
                is_manual=manual,
                request_url=_storable(outcome.request_url)[:2000],
                request_headers=_storable(outcome.request_headers),
                # Every attempt keeps what it sent (the kinds cut it at REQUEST_BODY_STORE_LIMIT), so an
                # operator sees what a working target got too; retention blanks it later (crm.retention).
                request_body=_storable(outcome.request_body),
                response_status=outcome.response_status,
                response_headers=_storable(outcome.response_headers),
                response_body=_storable(outcome.response_body),
                duration_ms=outcome.duration_ms,
                error_class=outcome.error_class,
                error_message=_storable(outcome.error_message)[:2000],
                succeeded=outcome.succeeded,
                created_at=now,
            )
        )
        state = next_state(
            delivery=delivery,
            outcome=outcome,
            manual=manual,
            schedule=settings.WORKFLOW_RETRY_SCHEDULE,
            now=now,
            rng=_jitter,
        )
        finished[delivery.pk] = {
            "leased_until": None,
            "lease_token": None,
            "last_status_code": outcome.response_status,
            "last_error": (
                "" if outcome.succeeded else _storable(f"{outcome.error_class}: {outcome.error_message}")[:2000]
            ),
            "last_duration_ms": outcome.duration_ms,
            "updated_at": now,
            **state,
        }
        if state.get("status") == DeliveryStatus.DEAD and delivery.status != DeliveryStatus.DEAD:
            died.append(delivery)
        for field, value in finished[delivery.pk].items():
            setattr(delivery, field, value)
        # The workflow rows were read with the deliveries: write them only when their state changes.
        failing_since = delivery.workflow.failing_since
        if outcome.succeeded:
            if failing_since is not None:
                recovered_workflows.add(delivery.workflow_id)
        else:
            if failing_since is None:
                failing_workflows.add(delivery.workflow_id)
            if outcome.gone:
                gone_workflows.add(delivery.workflow_id)
            elif (failing_since or now) <= pause_cutoff and delivery.workflow.paused_at is None:
                pause_candidates.add(delivery.workflow_id)
    with transaction.atomic():
        _relaxed_commit()
        if died:
            # Only deliveries this worker still holds die here (the finishing UPDATE is fenced the same way).
            # Relaxed like the rest: if the commit were lost, the delivery would be sent, and die, again.
            held = set(
                Delivery.objects.filter(pk__in=[delivery.pk for delivery in died], lease_token=token).values_list(
                    "pk", flat=True
                )
            )
            for delivery in died:
                if delivery.pk in held:
                    delivery_dead_fanout(delivery=delivery, died_at=now)
        _deliveries_finish(lease_token=token, changes_by_pk=finished)
        DeliveryAttempt.objects.bulk_create(attempts)
        if recovered_workflows:
            Workflow.all_objects.filter(id__in=recovered_workflows, failing_since__isnull=False).update(
                failing_since=None
            )
        if failing_workflows:
            Workflow.all_objects.filter(id__in=failing_workflows, failing_since__isnull=True).update(
                failing_since=now
            )
        if gone_workflows:
            Workflow.all_objects.filter(id__in=gone_workflows, is_active=True).update(
                is_active=False, pause_reason="Disabled: the target answered 410 Gone.", updated_at=now
            )
    for outcome in outcomes:
        delivery_attempt_observed(
            succeeded=outcome.succeeded,
            answered=outcome.response_status is not None,
            seconds=outcome.duration_ms / 1000,
        )
    if pause_candidates:
        workflows_pause_failing(workflow_ids=pause_candidates, now=now)
    return attempts


class DeliveriesReleased(Exception):
    """The worker is stopping: these deliveries were not taken, or their sends had not ended and their
    leases and attempts were given back; the caller queues them again at once (another worker takes
    them). No attempt is logged; a receiver that did get the request sees it again, same webhook-id."""

    def __init__(self, delivery_ids: list[int]):
        super().__init__(f"released deliveries {delivery_ids}")
        self.delivery_ids = delivery_ids


def _deliveries_release(*, lease_token: uuid.UUID, deliveries: list[Delivery], manual: bool) -> list[int]:
    """Clear the leases this attempt still holds (a lease taken over by another worker is left alone) and
    give the attempt back: counted when taken, it was never made."""
    changes = {"leased_until": None, "lease_token": None, "attempts": F("attempts") - 1, "enqueued_at": timezone.now()}
    if not manual:
        changes["scheduled_attempts"] = F("scheduled_attempts") - 1
    with transaction.atomic():
        held = Delivery.objects.select_for_update().filter(
            pk__in=[delivery.pk for delivery in deliveries], lease_token=lease_token
        )
        released = list(held.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=released).update(**changes)
    logger.warning("Stopping: released deliveries %s, whose sends had not ended", released)
    return released


def _deliveries_finish(*, lease_token: uuid.UUID, changes_by_pk: dict[int, dict]) -> None:
    """Write every leased delivery's new state in one UPDATE, fenced by the lease token: a worker whose
    lease ran out and was taken over writes nothing (its attempt is still logged)."""
    values = {}
    for field in set().union(*changes_by_pk.values()):
        model_field = Delivery._meta.get_field(field)
        per_pk = {pk: changes[field] for pk, changes in changes_by_pk.items() if field in changes}
        first = next(iter(per_pk.values()))
        if len(per_pk) == len(changes_by_pk) and all(value == first for value in per_pk.values()):
            values[field] = first
        else:
            values[field] = Case(
                *[When(pk=pk, then=Value(value, output_field=model_field)) for pk, value in per_pk.items()],
                default=F(field),
                output_field=model_field,
            )
    Delivery.objects.filter(pk__in=list(changes_by_pk), lease_token=lease_token).update(**values)
