"""Stored inbound calls, the same steps for every receiver: a signed receiver's call checked first (one
failing it is kept as a small rejected record, without its body), then kept, turned into what it makes,
marked processed or failed with its problem, and replayed."""
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..errors import INTERNAL_ERROR_STORED, problem_stored
from ..exceptions import Conflict, CoreError, DomainError, InvalidInput, SignatureInvalid
from ..metrics import inbound_call_counted
from ..parsers import json_loads_bounded, storable_text
from ..webhook_signing import SignatureFailure, secret_is_valid, signature_failure
from .models import InboundCall, InboundOutcome

Call = TypeVar("Call", bound=InboundCall)
Made = TypeVar("Made")
Handled = TypeVar("Handled")

# Headers that carry credentials are never stored with a raw call.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
# A call still "received" after this long was cut off mid-processing (a crash): replay may take it.
INBOUND_CALL_STALE_AFTER = timedelta(minutes=5)
# What a rejected call keeps of its headers: anyone can send one, so it is bounded like the rest of it.
REJECTED_MAX_HEADERS = 40
REJECTED_HEADER_MAX_CHARS = 500

SIGNATURE_FAILURE_DETAILS = {
    SignatureFailure.MISSING: "The call has no webhook-id, webhook-timestamp or webhook-signature header.",
    SignatureFailure.MALFORMED: "The call's webhook timestamp or signature is malformed.",
    SignatureFailure.STALE: "The call's webhook timestamp is more than five minutes from now.",
    SignatureFailure.INVALID: "The call's webhook signature is not the receiver's.",
}


def _headers_kept(headers: dict) -> dict:
    return {name.lower(): value for name, value in headers.items() if name.lower() not in SECRET_HEADERS}


def inbound_call_store(
    *, model: type[Call], receiver, headers: dict, body: str, source_ip: str | None, company_id=None, **fields
) -> Call:
    """Keep the raw call to a receiver of a company (or, without a receiver, to `company_id`), committed on its
    own, before anything can fail: nothing posted is lost. `fields` are the model's own columns."""
    with transaction.atomic():
        return model.objects.create(
            company_id=receiver.company_id if receiver is not None else company_id,
            receiver=receiver,
            **fields,
            headers=_headers_kept(headers),
            body=storable_text(body),
            body_size=len(body.encode()),
            source_ip=source_ip or None,
        )


def inbound_secret_check(*, secret: str) -> None:
    """A receiver's secret, when it has one, is a Standard Webhooks secret."""
    if secret and not secret_is_valid(secret):
        raise InvalidInput(
            "Not a Standard Webhooks secret.",
            errors={"secret": ["Must be whsec_ followed by 24 to 64 random bytes in base64."]},
        )


def inbound_signature_failure(*, receiver, headers: dict, body: str) -> SignatureFailure | None:
    """Why a live call to a receiver with a secret fails its Standard Webhooks check; None when it passes
    (or the receiver has no secret). Checked once, before the call is stored: a stored call is a genuine one."""
    if not receiver.secret:
        return None
    return signature_failure(secret=receiver.secret, headers=headers, body=body)


def inbound_signature_error(*, failure: SignatureFailure) -> SignatureInvalid:
    return SignatureInvalid(SIGNATURE_FAILURE_DETAILS[failure])


def inbound_call_reject(
    *, model: type[Call], receiver, headers: dict, body_size: int, failure: SignatureFailure, source_ip: str | None
) -> Call:
    """Keep a small record of a call that failed its receiver's signature check: its headers (credentials
    dropped, bounded in number and size), the size of its body but not the body, why, where from and when.
    Nothing to replay: an unsigned or forged call never makes anything."""
    kept = {
        name[:REJECTED_HEADER_MAX_CHARS]: storable_text(str(value)[:REJECTED_HEADER_MAX_CHARS])
        for name, value in list(_headers_kept(headers).items())[:REJECTED_MAX_HEADERS]
    }
    inbound_call_counted(receiver=model._meta.model_name, outcome=InboundOutcome.REJECTED)
    return model.objects.create(
        company_id=receiver.company_id,
        receiver=receiver,
        headers=kept,
        body="",
        body_size=body_size,
        source_ip=source_ip or None,
        outcome=InboundOutcome.REJECTED,
        rejection=failure,
        error=problem_stored(inbound_signature_error(failure=failure)),
        processed_at=timezone.now(),
    )


def inbound_call_payload(*, call: InboundCall):
    """The stored call's body as JSON (bounded in size and depth); InvalidInput `parse_error` when it is not."""
    try:
        return json_loads_bounded(call.body)
    except ValueError as exc:
        raise InvalidInput(
            "The body is not valid JSON.", code=CoreError.PARSE_ERROR, errors={"body": [str(exc)]}
        ) from exc


def _inbound_call_failed(*, call: InboundCall, problem: dict) -> None:
    call.outcome = InboundOutcome.FAILED
    call.error = problem
    call.processed_at = timezone.now()
    call.save(update_fields=["outcome", "error", "processed_at", "updated_at"])
    inbound_call_counted(receiver=call._meta.model_name, outcome=InboundOutcome.FAILED)


def inbound_call_process(
    *, call: InboundCall, make: Callable[[], Made], made_fields: Callable[[Made], dict]
) -> tuple[Made | None, DomainError | None]:
    """Make what a stored call asks for and record the outcome on the call, success or not: processed,
    naming what it made (`made_fields`), or failed with the problem of the domain error that stopped it,
    which is returned (the sender's fault, answered to the sender), not raised."""
    try:
        made = make()
    except DomainError as error:
        _inbound_call_failed(call=call, problem=problem_stored(error))
        return None, error
    except Exception:
        # Our fault, not the sender's: the call is kept as failed, with its body, to be replayed once fixed.
        _inbound_call_failed(call=call, problem=INTERNAL_ERROR_STORED)
        raise
    fields = made_fields(made)
    for name, value in fields.items():
        setattr(call, name, value)
    call.outcome = InboundOutcome.PROCESSED
    call.error = None
    call.processed_at = timezone.now()
    call.save(update_fields=["outcome", "error", *fields, "processed_at", "updated_at"])
    inbound_call_counted(receiver=call._meta.model_name, outcome=InboundOutcome.PROCESSED)
    return made, None


def inbound_call_is_replayable(*, call: InboundCall) -> bool:
    """Failed, or still "received" long after it arrived (its processing was cut off); a rejected call is
    never replayed (it kept no body, and replaying would skip the check it failed)."""
    if call.outcome == InboundOutcome.FAILED:
        return True
    stale = timezone.now() - INBOUND_CALL_STALE_AFTER
    return call.outcome == InboundOutcome.RECEIVED and call.created_at < stale


def inbound_call_replay(
    *,
    call: Call,
    locked: QuerySet,
    is_replayable: Callable[[Call], bool],
    process: Callable[[Call], Handled],
    noun: str,
    conflict_code: str,
) -> Handled:
    """Process a failed (or interrupted) stored call again, read again from `locked` (a select_for_update
    of its model) and checked again: never two replays of one call at once, nor one of a call done since.
    What it made before a crash is found again by the app's own idempotency (an engagement's key, a lead's
    dedupe), never made twice."""
    with transaction.atomic():
        # The row lock makes two replays of one call run one after the other; the second sees it processed.
        again = locked.get(pk=call.pk)
        if not is_replayable(again):
            raise Conflict(f"This {noun} cannot be replayed (outcome {again.outcome}).", code=conflict_code)
        return process(again)


# How many stored calls an export or an erasure reads at a time.
INBOUND_CALL_CHUNK_SIZE = 500


def inbound_call_document(*, call: InboundCall) -> dict:
    """A stored call as a lead's export shows it (the receiver is named by its uuid)."""
    return {
        "uuid": call.uuid,
        "receiver": call.receiver.uuid,
        "created_at": call.created_at,
        "outcome": call.outcome,
        "headers": call.headers,
        "body": call.body,
        "source_ip": call.source_ip,
        "error": call.error,
        "processed_at": call.processed_at,
    }


def inbound_calls_erase(*, calls: QuerySet) -> int:
    """Erase what the stored calls carried about a person: body, headers, source address, and of the problem
    all but its status and code (a validation message may quote what was posted). The outcome and times
    stay. Answers how many calls changed."""
    changed = 0
    for call in calls.only("pk", "error").iterator(chunk_size=INBOUND_CALL_CHUNK_SIZE):
        error = call.error
        if isinstance(error, dict):
            error = {key: error[key] for key in ("status", "code") if key in error}
        changed += calls.model.objects.filter(pk=call.pk).update(
            body="", headers={}, source_ip=None, error=error, updated_at=timezone.now()
        )
    return changed
