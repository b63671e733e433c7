"""Domain errors: services raise these; the API layer turns them into problem details."""


class DomainError(Exception):
    """A business rule said no. `code` is stable and machine-readable; `status` is the HTTP mapping."""

    status = 400
    code = "invalid"
    title = "Invalid request"

    def __init__(self, detail: str, *, code: str | None = None, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or {}

    def as_stored(self) -> dict:
        """The error as a stored inbound call keeps it (the shape of its problem details)."""
        return {"status": self.status, "code": self.code, "detail": self.detail, "errors": self.errors}


# What a stored inbound call keeps when our code, not the sender, failed it: it can be replayed once fixed.
INTERNAL_ERROR_STORED = {
    "status": 500,
    "code": "internal_error",
    "detail": "The call could not be processed because of an error on our side; it can be replayed.",
    "errors": {},
}


class InvalidInput(DomainError):
    """Input failed a business rule; `errors` maps field names to messages."""

    code = "validation_error"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    title = "Permission denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"
