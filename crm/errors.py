"""The codes of crm's domain errors: stable, machine-readable, the <code> of urn:salesassist:problem:<code>."""
from enum import StrEnum


class CrmError(StrEnum):
    """Why a crm service said no."""

    DUPLICATE_LEAD = "duplicate_lead"
    DUPLICATE_LEAD_CONFLICT = "duplicate_lead_conflict"
    RECEIVER_IN_USE = "receiver_in_use"
    LEAD_RECEIVER_ATTEMPT_NOT_REPLAYABLE = "lead_receiver_attempt_not_replayable"
    LEAD_IMPORT_TOO_MANY_ROWS = "lead_import_too_many_rows"
