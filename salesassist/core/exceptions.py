"""Domain errors: services raise these; the API layer (salesassist/core/errors.py) turns them into problem details.

An error says what went wrong (its kind, its class) and which rule said no (its `code`, a member of its app's
code enum); what it is in HTTP is the API layer's business alone.
"""
from enum import StrEnum


class CoreError(StrEnum):
    """The kernel's own codes: every kind's default, and the problems the API layer answers for the framework."""

    INVALID = "invalid"
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    CONFLICT = "conflict"
    UNPROCESSABLE = "unprocessable"
    INVALID_SIGNATURE = "invalid_signature"
    # An inbound call whose body is not JSON.
    PARSE_ERROR = "parse_error"
    # Our code, not the sender, failed a stored inbound call.
    INTERNAL_ERROR = "internal_error"
    # What the API layer answers when the framework or the database, not a service, refused the request.
    PROTECTED = "protected"
    INVALID_VALUE = "invalid_value"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    # /healthz/ready: the database or the cache does not answer, so this process cannot serve requests.
    NOT_READY = "not_ready"
    # /metrics with DEBUG off and no METRICS_TOKEN set; and a scrape without the right token.
    METRICS_CLOSED = "metrics_closed"
    METRICS_TOKEN_INVALID = "metrics_token_invalid"
    NOT_AUTHENTICATED = "not_authenticated"
    UNAVAILABLE = "unavailable"


class DomainError(Exception):
    """A business rule said no. `code` is stable and machine-readable: a member of its app's code enum."""

    code: StrEnum = CoreError.INVALID

    def __init__(self, detail: str, *, code: StrEnum | None = None, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or {}


class InvalidInput(DomainError):
    """Input failed a business rule; `errors` maps field names to messages."""

    code = CoreError.VALIDATION_ERROR


class NotFound(DomainError):
    """No such object (for this caller)."""

    code = CoreError.NOT_FOUND


class NotAuthenticated(DomainError):
    """The caller did not prove who it is (no credentials, or wrong ones)."""

    code = CoreError.NOT_AUTHENTICATED


class PermissionDenied(DomainError):
    """The caller may not do this."""

    code = CoreError.PERMISSION_DENIED


class Conflict(DomainError):
    """The request conflicts with the current state of the objects it touches."""

    code = CoreError.CONFLICT


class Unprocessable(DomainError):
    """The request is well-formed but cannot be taken as it stands, e.g. an idempotency key sent again with
    another request than the one it was first used for (the IETF Idempotency-Key draft answers it 422)."""

    code = CoreError.UNPROCESSABLE


class Unavailable(DomainError):
    """A service this request needs (the email server) did not take it; nothing was kept, it may be tried again."""

    code = CoreError.UNAVAILABLE


class SignatureInvalid(DomainError):
    """A receiver with a secret got a call without a valid Standard Webhooks signature."""

    code = CoreError.INVALID_SIGNATURE
