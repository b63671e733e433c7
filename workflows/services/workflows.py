"""Workflows: create, change, delete, rotate the secret, resume; and an operator's replay, recovery and test."""
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from action_engine.choices import Stage
from salesassist.core.exceptions import Conflict, InvalidInput
from salesassist.core.webhook_signing import message_id_for, secret_generate

from ..choices import DEFAULT_WORKFLOW_EVENTS, DeliveryStatus, WorkflowEvent, WorkflowKind
from ..conditions import conditions_validate
from ..kinds import AttemptOutcome, kind_handler
from ..models import Delivery, DeliveryAttempt, Workflow
from ..event_types import EVENT_TYPES, engagement_event_type
from ..payloads import event_sample
from ..selectors import deliveries_recoverable_ids
from .attempts import deliveries_attempt
from .fanout import deliveries_enqueue

SECRET_OVERLAP = timedelta(hours=24)


# --- Operator control ------------------------------------------------------------------------------


def delivery_replay(*, delivery: Delivery) -> DeliveryAttempt:
    """One manual attempt of a delivery, now, whatever its status; its retry schedule is left as it was."""
    if delivery.status == DeliveryStatus.CANCELLED:
        raise Conflict("This delivery was cancelled when its lead was erased: it is never sent.")
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


def workflow_test_event_type(*, workflow: Workflow, event_type: str | None = None, stage: str | None = None) -> str:
    """The type a test send samples: the one asked for (then `stage` does not matter), else an engagement at
    `stage` (default: the workflow's first stage, or submitted), or, for a workflow without engagement events,
    its first event type."""
    if event_type:
        return event_type
    if stage or WorkflowEvent.ENGAGEMENT in workflow.events or not workflow.events:
        return engagement_event_type(stage or (workflow.stages or [Stage.SUBMITTED])[0])
    return workflow.events[0]


def workflow_test(*, workflow: Workflow, stage: str | None = None, event_type: str | None = None) -> AttemptOutcome:
    """Send a sample event through the workflow now and report the exact request and response.

    Nothing is stored: no engagement, no delivery, no attempt.
    """
    if event_type and event_type not in EVENT_TYPES:
        raise InvalidInput("Unknown event type.", errors={"event_type": [f"One of: {', '.join(EVENT_TYPES)}."]})
    event = event_sample(
        event_type=workflow_test_event_type(workflow=workflow, event_type=event_type, stage=stage),
        company=workflow.company,
    )
    handler = kind_handler(workflow.kind)
    prepared = handler.prepare(workflow=workflow, event=event, message_id=message_id_for(uuid.uuid4()))
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


def events_validate(events) -> list[str]:
    """The event types a workflow subscribes to: at least one of WorkflowEvent, each once; none given is the
    default (engagement events, what every workflow received before it could choose)."""
    if events is None:
        return list(DEFAULT_WORKFLOW_EVENTS)
    if not isinstance(events, list) or not events or any(event not in WorkflowEvent.values for event in events):
        raise InvalidInput(
            "Unknown events.",
            errors={"events": [f"A non-empty list of event types among: {', '.join(WorkflowEvent.values)}."]},
        )
    return list(dict.fromkeys(events))


def _kind_validate(kind) -> str:
    if kind not in WorkflowKind.values:
        raise InvalidInput("Unknown kind.", errors={"kind": [f"One of: {', '.join(WorkflowKind.values)}."]})
    return kind


# What create and update take besides the kind (fixed once created) and the company.
WORKFLOW_FIELDS = ("name", "config", "events", "stages", "conditions", "is_active")


def workflow_check(*, workflow: Workflow | None = None, **fields) -> dict:
    """The fields a workflow is created with (no `workflow`) or changed to, as they will be stored: a known kind
    that never changes, the kind's config, the events, the stages and the conditions, each checked and cleaned.

    InvalidInput names every field that fails (the one field's own error when only one does).
    """
    if workflow is not None and "kind" in fields and fields["kind"] != workflow.kind:
        raise InvalidInput("The kind cannot be changed.", errors={"kind": ["Create a new workflow instead."]})
    kind = fields["kind"] = workflow.kind if workflow is not None else _kind_validate(fields.get("kind"))
    checks = {
        "config": kind_handler(kind).config_validate,
        "events": events_validate,
        "stages": stages_validate,
        "conditions": conditions_validate,
    }
    failures = []
    for name, check in checks.items():
        if name in fields:
            try:
                fields[name] = check(fields[name])
            except InvalidInput as error:
                failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        errors = {key: messages for failure in failures for key, messages in failure.errors.items()}
        raise InvalidInput("The workflow is invalid; see errors.", errors=errors)
    return fields


def workflow_create(
    *,
    company,
    name: str,
    kind: str,
    config: dict,
    events: list[str] | None = None,
    stages: list[str] | None = None,
    conditions: list | None = None,
    is_active: bool = True,
) -> Workflow:
    """A company's workflow; a signed kind's (webhook, http) gets a new signing secret (the caller shows it once)."""
    fields = workflow_check(kind=kind, config=config, events=events, stages=stages, conditions=conditions)
    workflow = Workflow(
        company=company,
        name=name,
        is_active=is_active,
        secret=secret_generate() if kind_handler(fields["kind"]).signed else "",
        **fields,
    )
    workflow.save()
    return workflow


def workflow_update(*, workflow: Workflow, **changes) -> Workflow:
    """Change a workflow. Turning it active again also lifts a pause (or a 410's disabling)."""
    changes = workflow_check(workflow=workflow, **changes)
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
    if not kind_handler(workflow.kind).signed:
        raise InvalidInput(
            "Only webhook and http workflows are signed.", errors={"kind": ["This workflow has no signing secret."]}
        )
    new_secret = secret_generate()
    workflow.previous_secret = workflow.secret
    workflow.previous_secret_expires_at = timezone.now() + SECRET_OVERLAP if workflow.secret else None
    workflow.secret = new_secret
    workflow.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return new_secret


def workflow_resume(*, workflow: Workflow) -> Workflow:
    """Lift a pause or a 410's disabling; its pending and failed deliveries are swept up again."""
    return workflow_update(workflow=workflow, is_active=True)
