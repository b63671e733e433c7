"""Leads in bulk: an upload of CSV or JSON lines, stored raw first like any inbound call, then each row mapped,
checked and de-duplicated exactly as a lead receiver's call is (crm/services/lead_receivers.py)."""
import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from salesassist.core.exceptions import DomainError, InvalidInput, Unprocessable
from salesassist.core.inbound.services import inbound_call_process, inbound_call_store
from salesassist.core.parsers import json_loads_bounded

from ..errors import CrmError
from ..models import Company, Lead, LeadImport, LeadReceiver
from .lead_receivers import LeadPayloadFields, LeadUpserted, lead_matches_load, lead_payload_fields, lead_upsert

LEAD_IMPORT_MAX_ROWS = 10_000
LEAD_IMPORT_CSV = "text/csv"
LEAD_IMPORT_JSON_LINES = "application/x-ndjson"
LEAD_IMPORT_CONTENT_TYPES = (LEAD_IMPORT_CSV, LEAD_IMPORT_JSON_LINES)
ROW_ERROR = "error"


@dataclass(frozen=True)
class LeadImportRow:
    """What one row did: created, updated or unchanged a lead, or an error with its problems per field."""

    row: int
    outcome: str
    lead: Lead | None = None
    problems: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LeadImported:
    """The stored upload and its rows' results, or the error that stopped the whole upload."""

    lead_import: LeadImport
    rows: list[LeadImportRow] = field(default_factory=list)
    error: DomainError | None = None


def lead_import_store(
    *, company: Company, receiver: LeadReceiver | None, content_type: str, headers: dict, body: str, source_ip
) -> LeadImport:
    """Keep the upload, committed on its own, before a row is read: nothing posted is lost."""
    return inbound_call_store(
        model=LeadImport,
        receiver=receiver,
        company_id=company.pk,
        headers=headers,
        body=body,
        source_ip=source_ip,
        content_type=content_type,
    )


def _rows(*, content_type: str, body: str) -> list:
    """The upload's rows: CSV records by their header row, or one JSON value per non-empty line."""
    if content_type == LEAD_IMPORT_CSV:
        try:
            rows = list(csv.DictReader(io.StringIO(body), strict=True))
        except csv.Error as exc:
            raise InvalidInput("The body is not valid CSV.", errors={"body": [str(exc)]}) from exc
        # An empty cell (or one a short row lacks) says nothing, as a key a lead receiver's call leaves out.
        return [{name: value for name, value in row.items() if name is not None and value} for row in rows]
    rows = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json_loads_bounded(line))
        except ValueError as exc:
            raise InvalidInput(
                f"Line {number} is not valid JSON.", errors={f"body.{number}": [str(exc)]}
            ) from exc
    return rows


def _row_fields(*, mapping: LeadReceiver, number: int, row) -> LeadPayloadFields | LeadImportRow:
    """The row mapped and checked, or its error."""
    try:
        return lead_payload_fields(receiver=mapping, payload=row)
    except DomainError as error:
        return _row_error(number, error)


def _row_error(number: int, error: DomainError) -> LeadImportRow:
    return LeadImportRow(row=number, outcome=ROW_ERROR, problems=error.errors or {"row": [error.detail]})


def _row_import(*, mapping: LeadReceiver, number: int, mapped: LeadPayloadFields, matches) -> LeadImportRow:
    try:
        with transaction.atomic():
            lead, upserted = lead_upsert(
                receiver=mapping,
                fields=mapped.fields,
                custom=mapped.custom,
                defaulted=mapped.defaulted,
                matches=matches,
            )
    except DomainError as error:
        return _row_error(number, error)
    return LeadImportRow(row=number, outcome=upserted, lead=lead)


def _lead_import_rows(*, lead_import: LeadImport, mapping: LeadReceiver) -> list[LeadImportRow]:
    rows = _rows(content_type=lead_import.content_type, body=lead_import.body)
    if len(rows) > LEAD_IMPORT_MAX_ROWS:
        raise Unprocessable(
            f"At most {LEAD_IMPORT_MAX_ROWS} rows a call; this one has {len(rows)}.",
            code=CrmError.LEAD_IMPORT_TOO_MANY_ROWS,
        )
    # All rows or none: a crash half-way leaves the upload "received", to be replayed whole.
    with transaction.atomic():
        mapped = [_row_fields(mapping=mapping, number=number, row=row) for number, row in enumerate(rows, start=1)]
        fields = [row.fields for row in mapped if isinstance(row, LeadPayloadFields)]
        # Every row's lead looked up (and locked) at once, not a lookup a row: the rows then find each other too.
        matches = lead_matches_load(
            company_id=lead_import.company_id,
            emails=[row.get("email") for row in fields],
            phones=[row.get("phone") for row in fields],
        )
        return [
            row
            if isinstance(row, LeadImportRow)
            else _row_import(mapping=mapping, number=number, mapped=row, matches=matches)
            for number, row in enumerate(mapped, start=1)
        ]


def _counts(rows: list[LeadImportRow]) -> dict:
    outcomes = [row.outcome for row in rows]
    return {
        "created_count": outcomes.count(LeadUpserted.CREATED),
        "updated_count": outcomes.count(LeadUpserted.UPDATED),
        "unchanged_count": outcomes.count(LeadUpserted.UNCHANGED),
        "error_count": outcomes.count(ROW_ERROR),
    }


def lead_import_process(*, lead_import: LeadImport) -> LeadImported:
    """Import the stored upload's rows; a row's error is its own, an unreadable or too long upload fails whole.

    The rows are mapped by the upload's lead receiver (its template, source and default owner), or, without
    one, each column is read at its own name and the rest goes to custom_fields.
    """
    mapping = lead_import.receiver or LeadReceiver(company_id=lead_import.company_id, template={}, source="import")
    rows, error = inbound_call_process(
        call=lead_import,
        make=lambda: _lead_import_rows(lead_import=lead_import, mapping=mapping),
        made_fields=_counts,
    )
    return LeadImported(lead_import=lead_import, rows=rows or [], error=error)
