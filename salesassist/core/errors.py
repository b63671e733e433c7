"""One error shape for every 4xx/5xx on every API host: RFC 9457 problem details.

{"type": "urn:salesassist:problem:<code>", "title": ..., "status": ..., "detail": ..., "errors": {...}}

A domain error knows only its kind and code; PROBLEM_KINDS below is the one place that gives it a status and a title.
"""
import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .exceptions import (
    Conflict,
    CoreError,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SignatureInvalid,
    Unavailable,
    Unprocessable,
)

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The one mapping from a kind of domain error to its HTTP answer (status, title). A kind's subclasses, such as
# the engine's LeadNotFound, answer as their nearest kind here.
PROBLEM_KINDS: dict[type[DomainError], tuple[int, str]] = {
    DomainError: (400, "Invalid request"),
    InvalidInput: (400, "Invalid input"),
    SignatureInvalid: (401, "Invalid signature"),
    NotAuthenticated: (401, "Not authenticated"),
    PermissionDenied: (403, "Permission denied"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Unprocessable: (422, "Unprocessable content"),
    Unavailable: (503, "Service unavailable"),
}

# What a stored inbound call keeps when our code, not the sender, failed it: it can be replayed once fixed.
INTERNAL_ERROR_STORED = {
    "status": 500,
    "code": CoreError.INTERNAL_ERROR,
    "detail": "The call could not be processed because of an error on our side; it can be replayed.",
    "errors": {},
}


def problem_body(*, status_code: int, code: str, detail: str, title: str | None = None, errors=None) -> dict:
    body = {
        "type": f"urn:salesassist:problem:{code}",
        "title": title or HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def _kind(error: DomainError) -> tuple[int, str]:
    return next(PROBLEM_KINDS[kind] for kind in type(error).__mro__ if kind in PROBLEM_KINDS)


def problem_for(error: DomainError) -> tuple[int, dict]:
    """A domain error's HTTP status and problem details."""
    status_code, title = _kind(error)
    return status_code, problem_body(
        status_code=status_code, code=error.code, title=title, detail=error.detail, errors=error.errors
    )


def problem_stored(error: DomainError) -> dict:
    """A domain error as a stored inbound call keeps it (the shape of its problem details)."""
    status_code, _title = _kind(error)
    return {"status": status_code, "code": error.code, "detail": error.detail, "errors": error.errors}


def problem_response(error: DomainError, **extra) -> Response:
    """A domain error's problem details as the answer, with `extra` keys (e.g. the stored call's uuid)."""
    status_code, body = problem_for(error)
    return Response({**body, **extra}, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _flatten_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"field.sub.0": ["message", ...]}."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            flat.update(_flatten_errors(value, name))
        return flat
    if isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            return {prefix or "non_field_errors": [str(item) for item in data]}
        flat = {}
        for index, item in enumerate(data):
            if item:
                flat.update(_flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(data)]}


def _problem_from_drf(exc: exceptions.APIException, response: Response) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        _status, body = problem_for(
            InvalidInput("The request has invalid fields; see errors.", errors=_flatten_errors(exc.detail))
        )
        return body
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    codes = exc.get_codes()
    return problem_body(
        status_code=response.status_code, code=codes if isinstance(codes, str) else exc.default_code, detail=detail
    )


def _problem(status_code: int, code: str, detail: str, **kwargs) -> Response:
    return Response(
        problem_body(status_code=status_code, code=code, detail=detail, **kwargs),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error, ours or DRF's, as problem details."""
    if isinstance(exc, DomainError):
        return problem_response(exc)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        return _problem(409, CoreError.PROTECTED, "Other records still refer to this one; it cannot be deleted.")
    elif isinstance(exc, DataError):
        # A value the database cannot store (out of range, a NUL character…) that validation let through.
        logger.warning("DataError reached the API layer: %s", exc)
        return _problem(400, CoreError.INVALID_VALUE, "A value is out of range or cannot be stored.")
    elif isinstance(exc, IntegrityError):
        # Services turn the constraints they know into field errors; anything that still reaches here is a
        # write that raced another one or broke a rule the service missed: the client's data, not a crash.
        logger.warning("IntegrityError reached the API layer: %s", exc)
        return _problem(409, CoreError.CONFLICT, "The request conflicts with the current state of another record.")
    if isinstance(exc, Http404):
        # get_object_or_404's message names the model; callers only need to know there is no such object.
        exc = exceptions.NotFound("No such object.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers (also as problem details)
    response.data = _problem_from_drf(exc, response)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_response(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem_body(status_code=status_code, code=code, detail=detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


# Django-level handlers for the API hosts' URLconfs (unknown paths, oversize bodies, crashes).
def bad_request(request, exception=None):
    return _problem_response(status.HTTP_400_BAD_REQUEST, CoreError.BAD_REQUEST, "The request could not be understood.")


def permission_denied(request, exception=None):
    return _problem_response(status.HTTP_403_FORBIDDEN, CoreError.PERMISSION_DENIED, "You may not do this.")


def page_not_found(request, exception=None):
    return _problem_response(status.HTTP_404_NOT_FOUND, CoreError.NOT_FOUND, "No such resource.")


def server_error(request):
    return _problem_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        CoreError.SERVER_ERROR,
        "Something went wrong on our side; it was logged.",
    )


# --- OpenAPI ----------------------------------------------------------------------------------------


class ProblemDetailsSerializer(serializers.Serializer):
    """RFC 9457 problem details: the body of every 4xx and 5xx answer of the APIs."""

    type = serializers.CharField(help_text="A stable URN naming the problem, e.g. urn:salesassist:problem:not_found.")
    title = serializers.CharField(help_text="A short, human-readable summary of the problem type.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Per-field messages for validation errors, e.g. {"email": ["Enter a valid email address."]}.',
    )


_PROBLEM_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, unknown or invalid fields (see `errors`).",
    401: "No API key, or an unknown or revoked one.",
    403: "The key is read-only, or the object may not be changed by this company.",
    404: "No such object for this company.",
    409: "The request conflicts with other records (e.g. the object is still in use).",
    415: "The body is not application/json.",
    429: "Too many failed API-key authentications from this address: every key is refused until Retry-After.",
}


def problem_responses(*statuses: int, **described: str) -> dict:
    """`@extend_schema(responses=...)` entries for problem answers, as application/problem+json: each of `statuses`
    with its usual description, each `_<status>="..."` with the operation's own, e.g. (401, 404, _409="...").
    A 401 (the API key is checked) brings its 429 along."""
    if 401 in statuses:
        # Where an API key is checked, too many failed ones from the caller's address answer 429 (crm/auth.py).
        statuses = (*statuses, 429)
    descriptions = {status_code: _PROBLEM_DESCRIPTIONS[status_code] for status_code in statuses}
    descriptions.update({int(name.lstrip("_")): text for name, text in described.items()})
    return {
        (status_code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemDetailsSerializer, description=text)
        for status_code, text in descriptions.items()
    }
