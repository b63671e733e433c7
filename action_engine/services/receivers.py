"""Company action receivers: created, rotated and signed; the calls they take (their signature checked by the
kernel's inbound pipeline before they are stored) stored, processed and replayed."""
from dataclasses import dataclass

from django.db import transaction

from action_engine.errors import ActionEngineError
from action_engine.models import ActionCompany, ActionCompanyReceiver, ReceiverCall
from action_engine.systems import parse_uuid, system_spec
from salesassist.core.dotpath import dot_path_get
from salesassist.core.exceptions import DomainError, InvalidInput, NotFound
from salesassist.core.inbound.services import (
    inbound_call_is_replayable,
    inbound_call_payload,
    inbound_call_process,
    inbound_call_replay,
    inbound_call_store,
    inbound_secret_check,
)
from salesassist.core.webhook_signing import secret_generate

from .engagements import EngagementRecorded, engagement_record

RECEIVER_FIELDS = ("mapping", "default_stage")
RECEIVER_MAPPING_KEYS = ("lead", "visitor", "stage", "message")
# A new company action's receiver reads each value at its own name; the visitor path is spelled out
# because every mapping must name one (receiver_mapping_check).
RECEIVER_DEFAULT_MAPPING = {"visitor": "visitor"}
NO_VISITOR_PATH = "The mapping must name the visitor's dot path, e.g. {\"visitor\": \"visitor\"}."


def receiver_mapping_check(*, mapping) -> None:
    """A receiver's mapping names where each call carries its visitor: every public call names the browser
    it came from (as an action page's calls do), so an engagement is never left without one."""
    visitor_path = mapping.get("visitor") if isinstance(mapping, dict) else None
    if not isinstance(visitor_path, str) or not visitor_path.strip():
        raise InvalidInput(
            "The receiver's mapping has no visitor path.",
            code=ActionEngineError.MAPPING_WITHOUT_VISITOR,
            errors={"mapping": [NO_VISITOR_PATH]},
        )


@transaction.atomic
def action_company_receiver_create(
    *, action_company: ActionCompany, mapping: dict | None = None, **fields
) -> ActionCompanyReceiver:
    """A new active receiver for a company action; the one active before it stops accepting calls."""
    mapping = dict(RECEIVER_DEFAULT_MAPPING) if mapping is None else mapping
    receiver_mapping_check(mapping=mapping)
    ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).update(
        is_active=False
    )
    return ActionCompanyReceiver.objects.create(
        company_id=action_company.company_id, action_company=action_company, mapping=mapping, **fields
    )


def receiver_default_stage_check(*, action_company: ActionCompany, default_stage: str) -> None:
    """A receiver's default stage, when it has one, is a stage of its action's pipeline."""
    pipeline = system_spec(action_company.action.system.slug).pipeline
    if default_stage and default_stage not in pipeline:
        raise InvalidInput(
            "The default stage is not in the action's pipeline.",
            errors={"default_stage": [f"Must be one of: {', '.join(pipeline)}."]},
        )


def action_company_receiver_update(*, receiver: ActionCompanyReceiver, **fields) -> ActionCompanyReceiver:
    """Change a receiver's mapping or default stage in place (admin); its uuid and secret stay."""
    for name, value in fields.items():
        if name not in RECEIVER_FIELDS:
            raise TypeError(f"action_company_receiver_update() got an unexpected field {name!r}")
        setattr(receiver, name, value)
    receiver_mapping_check(mapping=receiver.mapping)
    receiver_default_stage_check(action_company=receiver.action_company, default_stage=receiver.default_stage)
    receiver.save()
    return receiver


def action_company_receiver_secret_generate() -> str:
    """A new Standard Webhooks secret for a receiver."""
    return secret_generate()


def action_company_receiver_rotate(
    *,
    action_company: ActionCompany,
    secret: str = "",
    mapping: dict | None = None,
    default_stage: str | None = None,
) -> ActionCompanyReceiver:
    """A new active receiver replacing the current one; mapping and default stage carry over unless given."""
    current = action_company.receivers.filter(is_active=True).first()
    if mapping is None:
        mapping = dict(current.mapping) if current else dict(RECEIVER_DEFAULT_MAPPING)
    receiver_mapping_check(mapping=mapping)
    if default_stage is None:
        default_stage = current.default_stage if current else ""
    receiver_default_stage_check(action_company=action_company, default_stage=default_stage)
    inbound_secret_check(secret=secret)
    return action_company_receiver_create(
        action_company=action_company, secret=secret, mapping=mapping, default_stage=default_stage
    )


@dataclass(frozen=True)
class ReceiverCallHandled:
    """A stored receiver call after processing: the engagement it made, or the error that stopped it."""

    call: ReceiverCall
    recorded: EngagementRecorded | None = None
    error: DomainError | None = None


def receiver_call_store(
    *, receiver: ActionCompanyReceiver, headers: dict, body: str, source_ip: str | None
) -> ReceiverCall:
    """Keep the raw call, committed on its own, before anything can fail: nothing posted is lost."""
    return inbound_call_store(model=ReceiverCall, receiver=receiver, headers=headers, body=body, source_ip=source_ip)


def receiver_payload_map(*, receiver: ActionCompanyReceiver, payload) -> dict:
    """lead, visitor, stage and message out of a third party's JSON by the receiver's mapping.

    mapping = {"lead": "<dot path>", "visitor": ..., "stage": ..., "message": "<dot path or $>",
    "stages": {"<their event name>": "<our stage>"}}; the visitor's path must be named, any other key not
    mapped is read at its own name. A mapping without a visitor path (only a row written around the
    services can have one) refuses the call: stored, replayable once the mapping names one.
    """
    receiver_mapping_check(mapping=receiver.mapping)
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.", errors={"body": ["Must be a JSON object."]})
    mapping = receiver.mapping
    values = {key: dot_path_get(payload, str(mapping.get(key) or key)) for key in RECEIVER_MAPPING_KEYS}
    translations = mapping.get("stages") if isinstance(mapping.get("stages"), dict) else {}
    stage = values["stage"]
    if isinstance(stage, str) and stage in translations:
        stage = translations[stage]
    values["stage"] = stage or receiver.default_stage
    errors = {}
    lead_uuid = parse_uuid(values["lead"])
    if lead_uuid is None:
        errors["lead"] = [f"No lead uuid at {mapping.get('lead') or 'lead'}."]
    visitor_uuid = parse_uuid(values["visitor"])
    if visitor_uuid is None:
        errors["visitor"] = [f"No visitor uuid at {mapping['visitor']}."]
    if not isinstance(values["stage"], str) or not values["stage"]:
        errors["stage"] = ["No stage in the call and the receiver has no default stage."]
    message = values["message"] if values["message"] is not None else {}
    if not isinstance(message, dict):
        errors["message"] = ["The message must be a JSON object."]
    if errors:
        raise InvalidInput(
            "The call could not be mapped; see errors.", code=ActionEngineError.MAPPING_FAILED, errors=errors
        )
    return {"lead": lead_uuid, "visitor": visitor_uuid, "stage": values["stage"], "message": message}


def _receiver_call_engagement(*, call: ReceiverCall) -> EngagementRecorded:
    receiver = call.receiver
    mapped = receiver_payload_map(receiver=receiver, payload=inbound_call_payload(call=call))
    action_company = (
        ActionCompany.objects.select_related("action__system", "company")
        .filter(pk=receiver.action_company_id, is_active=True, company__is_active=True)
        .first()
    )
    if action_company is None:
        # Kept as failed: replayable once the action (or the company) is active again.
        raise NotFound("The receiver's action or its company is not active.")
    # Standard Webhooks senders retry with the same webhook-id: it is the sender's idempotency key, so their
    # retries count once and a reused id with another body is refused. Without one, the call's own uuid makes
    # its replays count once, even after a crash between recording the engagement and marking the call
    # processed; and as for any keyless request, an identical call moments after another is not recorded twice.
    webhook_id = str(call.headers.get("webhook-id") or "")[:100]
    return engagement_record(
        action_company=action_company,
        lead_uuid=mapped["lead"],
        stage=mapped["stage"],
        message=mapped["message"],
        visitor_uuid=mapped["visitor"],
        receiver=receiver,
        idempotency_key=f"receiver:{receiver.uuid}:{webhook_id}" if webhook_id else f"receiver-call:{call.uuid}",
        deduplicate=not webhook_id,
    )


def receiver_call_process(*, receiver_call: ReceiverCall) -> ReceiverCallHandled:
    """Turn a stored call into an engagement and record the outcome on the call, success or not."""
    recorded, error = inbound_call_process(
        call=receiver_call,
        make=lambda: _receiver_call_engagement(call=receiver_call),
        made_fields=lambda recorded: {"engagement": recorded.engagement},
    )
    return ReceiverCallHandled(call=receiver_call, recorded=recorded, error=error)


def receiver_call_is_replayable(*, receiver_call: ReceiverCall) -> bool:
    """Failed or cut off mid-processing; a call rejected for its signature never is."""
    return inbound_call_is_replayable(call=receiver_call)


def receiver_call_replay(*, receiver_call: ReceiverCall) -> ReceiverCallHandled:
    """Process a failed (or interrupted) call again. Its signature is not checked again: it passed the check
    before it was stored."""
    return inbound_call_replay(
        call=receiver_call,
        locked=ReceiverCall.objects.select_for_update().select_related("receiver"),
        is_replayable=lambda call: receiver_call_is_replayable(receiver_call=call),
        process=lambda call: receiver_call_process(receiver_call=call),
        noun="call",
        conflict_code=ActionEngineError.RECEIVER_CALL_NOT_REPLAYABLE,
    )
