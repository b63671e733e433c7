"""Stored inbound calls, the same steps for every receiver: kept first, turned into what they make,
marked processed or failed with their problem, and replayed."""
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..errors import INTERNAL_ERROR_STORED, problem_stored
from ..exceptions import Conflict, CoreError, DomainError, InvalidInput
from ..parsers import json_loads_bounded, storable_text
from .models import InboundCall, InboundOutcome

Call = TypeVar("Call", bound=InboundCall)
Made = TypeVar("Made")
Handled = TypeVar("Handled")

# Headers that carry credentials are never stored with a raw call.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
# A call still "received" after this long was cut off mid-processing (a crash): replay may take it.
INBOUND_CALL_STALE_AFTER = timedelta(minutes=5)


def inbound_call_store(*, model: type[Call], receiver, headers: dict, body: str, source_ip: str | None) -> Call:
    """Keep the raw call to a receiver of a company, committed on its own, before anything can fail: nothing
    posted is lost."""
    kept = {name.lower(): value for name, value in headers.items() if name.lower() not in SECRET_HEADERS}
    with transaction.atomic():
        return model.objects.create(
            company_id=receiver.company_id,
            receiver=receiver,
            headers=kept,
            body=storable_text(body),
            source_ip=source_ip or None,
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
    return made, None


def inbound_call_is_replayable(*, call: InboundCall, refused_codes: frozenset[str] = frozenset()) -> bool:
    """Failed (unless for a problem whose code is in `refused_codes`), or still "received" long after it
    arrived (its processing was cut off)."""
    if call.outcome == InboundOutcome.FAILED:
        return (call.error or {}).get("code") not in refused_codes
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
