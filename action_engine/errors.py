"""The codes of the engine's domain errors: stable, machine-readable, the <code> of urn:salesassist:problem:<code>."""
from enum import StrEnum


class ActionEngineError(StrEnum):
    """Why an engine service or endpoint said no."""

    # The catalogue, company actions and their forms.
    GLOBAL_ACTION = "global_action"
    IN_USE = "in_use"
    MODULE_KIND_NOT_ALLOWED = "module_kind_not_allowed"
    INVALID_SCHEMA = "invalid_schema"
    ACTION_NOT_SHAREABLE = "action_not_shareable"
    # Sharing by email.
    LEAD_UNSUBSCRIBED = "lead_unsubscribed"
    LEAD_WITHOUT_EMAIL = "lead_without_email"
    EMAIL_NOT_SENT = "email_not_sent"
    # Action links and the engagements recorded through them.
    TOKEN_REQUIRED = "token_required"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    IDEMPOTENCY_KEY_MISMATCH = "idempotency_key_mismatch"
    VISITOR_OF_ANOTHER_LEAD = "visitor_of_another_lead"
    STAGE_NOT_IN_PIPELINE = "stage_not_in_pipeline"
    # Receiver calls.
    MAPPING_FAILED = "mapping_failed"
    MAPPING_WITHOUT_VISITOR = "mapping_without_visitor"
    RECEIVER_CALL_NOT_REPLAYABLE = "receiver_call_not_replayable"
