"""Write operations of the workflows domain: the outbox, attempts and their retry state, operator control."""
import logging
import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.template.loader import render_to_string
from django.utils import timezone

from action_engine.choices import Stage
from salesassist.core.exceptions import Conflict, InvalidInput
from salesassist.core.parsers import storable_text
from salesassist.core.webhook_signing import message_id_for, secret_generate

from .choices import AttemptError, DeliveryStatus, WorkflowKind
from .conditions import conditions_validate
from .kinds import AttemptOutcome, kind_handler
from .models import Delivery, DeliveryAttempt, Workflow
from .payloads import engagement_sample
from .selectors import (
    DUE_STATUSES,
    deliveries_due_ids,
    deliveries_for_sending,
    deliveries_recoverable_ids,
    sendable_workflow_ids,
    workflows_for_engagement,
)
from .transport import RETRY_AFTER_MAX

logger = logging.getLogger(__name__)

SEND_TASK = "workflows.tasks.deliveries_send"
SECRET_OVERLAP = timedelta(hours=24)
THROTTLED_MIN_DELAY = 60.0
JITTER = 0.2
SWEEP_LIMIT = 5000


# --- The outbox ----------------------------------------------------------------------------------


def engagement_fanout(*, engagement) -> list[Delivery]:
    """Write one pending Delivery per matching workflow, in the caller's (the engagement's) transaction.

    Their first attempt is queued when that transaction commits; if it rolls back there is nothing to
    send, and if the queueing is lost the sweeper finds the deliveries anyway.
    """
    workflows = workflows_for_engagement(engagement=engagement)
    if not workflows:
        return []
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                company_id=engagement.company_id,
                workflow=workflow,
                engagement=engagement,
                next_attempt_at=now,
                enqueued_at=now,
            )
            for workflow in workflows
        ]
    )
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return deliveries


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


# --- Attempts --------------------------------------------------------------------------------------


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
        candidates = Delivery.objects.filter(free, id__in=delivery_ids, workflow_id__in=Workflow.objects.values("id"))
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


def task_batch_size() -> int:
    """Deliveries one task may send: WORKFLOW_TASK_BATCH, at most three rounds of parallel sends, so a task
    whose every send times out (15 s) still ends within django-q2's 60 s task timeout."""
    return max(1, min(settings.WORKFLOW_TASK_BATCH, 3 * max(1, settings.WORKFLOW_SEND_CONCURRENCY)))


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


def _prepare(delivery: Delivery):
    """The kind's send, ready to run without the database; or the outcome that explains why not."""
    try:
        handler = kind_handler(delivery.workflow.kind)
        prepared = handler.prepare(
            workflow=delivery.workflow, engagement=delivery.engagement, message_id=message_id_for(delivery.uuid)
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


def retry_delay(*, base: float, outcome: AttemptOutcome, rng: random.Random | None = None) -> float:
    """Seconds until the next automatic attempt: the schedule's delay ±20 %, at least a minute after a 429
    or a timeout, and never earlier than the target's Retry-After (which counts up to RETRY_AFTER_MAX)."""
    rng = rng or random
    delay = base * rng.uniform(1 - JITTER, 1 + JITTER)
    if outcome.throttled:
        delay = max(delay, THROTTLED_MIN_DELAY)
    if outcome.retry_after is not None:
        delay = max(delay, min(max(0.0, outcome.retry_after), RETRY_AFTER_MAX))
    return delay


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


def _next_state(*, delivery: Delivery, outcome: AttemptOutcome, manual: bool, now: datetime) -> dict:
    """The delivery's new status and next attempt after this outcome."""
    if outcome.succeeded:
        return {"status": DeliveryStatus.SUCCEEDED, "succeeded_at": now, "next_attempt_at": None}
    if outcome.gone or outcome.permanent:
        if manual and delivery.status == DeliveryStatus.SUCCEEDED:
            return {}
        return {"status": DeliveryStatus.DEAD, "next_attempt_at": None}
    if manual:
        return {}  # a replay is one extra attempt: the delivery keeps its status and schedule
    schedule = settings.WORKFLOW_RETRY_SCHEDULE
    done = delivery.scheduled_attempts
    if done >= len(schedule):
        return {"status": DeliveryStatus.DEAD, "next_attempt_at": None}
    delay = retry_delay(base=schedule[done], outcome=outcome)
    return {"status": DeliveryStatus.FAILED, "next_attempt_at": now + timedelta(seconds=delay)}


def deliveries_attempt(
    *, delivery_ids: list[int], manual: bool = False, statuses: list[str] | None = None, fill_to: int = 0
) -> list[DeliveryAttempt]:
    """Lease the deliveries, send each once, log every attempt and move each delivery's retry state.

    Automatic attempts only take deliveries that are due (plus other due ones up to `fill_to`); a manual
    one (a replay) takes any free delivery of the given statuses and does not change its schedule unless
    it succeeds.
    """
    token, deliveries = _deliveries_lease(
        delivery_ids=delivery_ids, manual=manual, statuses=statuses, fill_to=0 if manual else fill_to
    )
    if not deliveries:
        return []
    outcomes = _send_all(deliveries)
    now = timezone.now()
    attempts, finished = [], {}
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
                # A failed attempt keeps the body it sent, for debugging; a succeeded one's body is the
                # delivery's payload, which engagement_payload() rebuilds: not stored once per delivery.
                request_body="" if outcome.succeeded else _storable(outcome.request_body),
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
        state = _next_state(delivery=delivery, outcome=outcome, manual=manual, now=now)
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
        for field, value in state.items():
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
    if pause_candidates:
        _pause_failing(workflow_ids=pause_candidates, now=now)
    return attempts


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


def _pause_failing(*, workflow_ids: set[int], now: datetime) -> None:
    """Pause the workflows whose every attempt has failed for longer than WORKFLOW_PAUSE_AFTER_HOURS."""
    cutoff = now - timedelta(hours=settings.WORKFLOW_PAUSE_AFTER_HOURS)
    for workflow in Workflow.objects.filter(id__in=workflow_ids, paused_at__isnull=True, failing_since__lte=cutoff):
        reason = f"Paused: every delivery attempt has failed since {workflow.failing_since:%Y-%m-%d %H:%M} UTC."
        # Conditional, so two workers that both notice pause (and email) only once.
        if Workflow.objects.filter(pk=workflow.pk, paused_at__isnull=True).update(
            paused_at=now, pause_reason=reason, updated_at=now
        ):
            workflow.paused_at, workflow.pause_reason = now, reason
            workflow_paused_notify(workflow=workflow)


def workflow_paused_notify(*, workflow: Workflow) -> int:
    """Email the company's staff (the site admins for a global workflow) that the workflow was paused."""
    subject = f"SalesAssist: workflow “{workflow.name}” paused"
    body = render_to_string("workflows/workflow_paused_email.txt", {"workflow": workflow})
    try:
        if workflow.company_id is None:
            mail_admins(subject, body, fail_silently=False)
            return len(settings.ADMINS)
        recipients = sorted(
            {
                email
                for email in workflow.company.memberships.filter(user__is_active=True).values_list(
                    "user__email", flat=True
                )
                if email
            }
        )
        if recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        return len(recipients)
    except Exception:
        logger.exception("Could not email that workflow %s was paused", workflow.uuid)
        return 0


# --- Operator control ------------------------------------------------------------------------------


def delivery_replay(*, delivery: Delivery) -> DeliveryAttempt:
    """One manual attempt of a delivery, now, whatever its status; its retry schedule is left as it was."""
    attempts = deliveries_attempt(delivery_ids=[delivery.pk], manual=True)
    if not attempts:
        raise Conflict("This delivery is being attempted right now, or its workflow was deleted; try again later.")
    delivery.refresh_from_db()
    return attempts[0]


def workflow_recover(*, workflow: Workflow, since: datetime) -> int:
    """Queue one manual attempt of every failed or dead delivery of the workflow created since `since`."""
    delivery_ids = deliveries_recoverable_ids(workflow=workflow, since=since)
    return deliveries_enqueue(
        delivery_ids=delivery_ids, manual=True, statuses=[DeliveryStatus.FAILED, DeliveryStatus.DEAD]
    )


def workflow_test(*, workflow: Workflow, stage: str | None = None) -> AttemptOutcome:
    """Send a sample engagement through the workflow now and report the exact request and response.

    Nothing is stored: no engagement, no delivery, no attempt.
    """
    engagement = engagement_sample(company=workflow.company, stage=stage or (workflow.stages or [None])[0])
    handler = kind_handler(workflow.kind)
    prepared = handler.prepare(workflow=workflow, engagement=engagement, message_id=message_id_for(uuid.uuid4()))
    return handler.send(prepared)


# --- Workflows -------------------------------------------------------------------------------------


def stages_validate(stages) -> list[str]:
    if stages in (None, ""):
        return []
    if not isinstance(stages, list) or any(stage not in Stage.values for stage in stages):
        raise InvalidInput(
            "Unknown stages.", errors={"stages": [f"A list of stages among: {', '.join(Stage.values)}."]}
        )
    return list(dict.fromkeys(stages))


def _kind_validate(kind) -> str:
    if kind not in WorkflowKind.values:
        raise InvalidInput("Unknown kind.", errors={"kind": [f"One of: {', '.join(WorkflowKind.values)}."]})
    return kind


def workflow_create(
    *,
    company,
    name: str,
    kind: str,
    config: dict,
    stages: list[str] | None = None,
    conditions: list | None = None,
    is_active: bool = True,
) -> Workflow:
    """A company's workflow; a webhook gets a new signing secret (the caller shows it once)."""
    kind = _kind_validate(kind)
    workflow = Workflow(
        company=company,
        name=name,
        kind=kind,
        config=kind_handler(kind).config_validate(config),
        stages=stages_validate(stages),
        conditions=conditions_validate(conditions),
        is_active=is_active,
        secret=secret_generate() if kind == WorkflowKind.WEBHOOK else "",
    )
    workflow.save()
    return workflow


def workflow_update(*, workflow: Workflow, **changes) -> Workflow:
    """Change a workflow. Turning it active again also lifts a pause (or a 410's disabling)."""
    if "kind" in changes and changes["kind"] != workflow.kind:
        raise InvalidInput("The kind cannot be changed.", errors={"kind": ["Create a new workflow instead."]})
    changes.pop("kind", None)
    if "config" in changes:
        changes["config"] = kind_handler(workflow.kind).config_validate(changes["config"])
    if "stages" in changes:
        changes["stages"] = stages_validate(changes["stages"])
    if "conditions" in changes:
        changes["conditions"] = conditions_validate(changes["conditions"])
    if changes.get("is_active") and (workflow.paused_at or not workflow.is_active):
        workflow.paused_at, workflow.pause_reason, workflow.failing_since = None, "", None
    for field, value in changes.items():
        setattr(workflow, field, value)
    workflow.save()
    return workflow


def workflow_delete(*, workflow: Workflow) -> None:
    """Soft-delete: the workflow stops firing; its deliveries and attempts stay for the record."""
    with transaction.atomic():
        workflow.is_active = False
        workflow.save(update_fields=["is_active", "updated_at"])
        workflow.delete()


def workflow_rotate_secret(*, workflow: Workflow) -> str:
    """A new signing secret; the old one keeps signing (second signature) for 24 hours."""
    if workflow.kind != WorkflowKind.WEBHOOK:
        raise InvalidInput("Only webhooks are signed.", errors={"kind": ["This workflow has no signing secret."]})
    new_secret = secret_generate()
    workflow.previous_secret = workflow.secret
    workflow.previous_secret_expires_at = timezone.now() + SECRET_OVERLAP if workflow.secret else None
    workflow.secret = new_secret
    workflow.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return new_secret


def workflow_resume(*, workflow: Workflow) -> Workflow:
    """Lift a pause or a 410's disabling; its pending and failed deliveries are swept up again."""
    return workflow_update(workflow=workflow, is_active=True)
