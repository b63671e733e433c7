"""What every HTTP kind (webhook, http, slack) shares: custom headers checked at save, one JSON request sent
(signed per Standard Webhooks when the workflow has secrets), its outcome and what the log and test mode show."""
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from salesassist.core.webhook_signing import signature_header

from .. import transport
from ..choices import AttemptError
from ..ssrf import BlockedTarget, resolve_target
from .base import REDACTED, REQUEST_BODY_STORE_LIMIT, RESPONSE_STORE_LIMIT, AttemptOutcome

USER_AGENT = "SalesAssist-Webhooks/1.0"
# The whole send (DNS, connect, request, answer) is over within this many seconds.
TOTAL_TIMEOUT = 15.0
MAX_CUSTOM_HEADERS = 20
# Headers we set ourselves: a workflow's custom headers may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "user-agent",
        "accept-encoding",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
# Values of these headers never reach the attempt log.
SENSITIVE_HEADER = re.compile(r"authorization|cookie|secret|token|api[-_]?key|password|signature", re.IGNORECASE)
# The one sensitive-looking header test mode shows as sent: the owner checks their verifier against it.
SIGNATURE_HEADER = "webhook-signature"
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


@dataclass
class PreparedRequest:
    """One JSON request, ready to send without the database; `logged_url` is the URL as the log may show it."""

    url: str
    body: bytes
    message_id: str
    secrets: list[str]
    custom_headers: dict = field(default_factory=dict)
    method: str = "POST"
    logged_url: str | None = None


def url_problems(url) -> list[str]:
    """Why the URL cannot be a target (SSRF checks included); empty when it can."""
    try:
        resolve_target(url)
    except BlockedTarget as exc:
        return [str(exc)]
    return []


def headers_problems(headers, *, key: str = "config.headers") -> dict[str, list[str]]:
    """Problems of a workflow's custom headers, by `config.headers.<name>`; empty when they can be sent."""
    if not isinstance(headers, Mapping):
        return {key: ["Must be an object of header names to string values."]}
    errors: dict[str, list[str]] = {}
    if len(headers) > MAX_CUSTOM_HEADERS:
        errors[key] = [f"At most {MAX_CUSTOM_HEADERS} headers."]
    for name, value in headers.items():
        name_key = f"{key}.{name}"
        if not HEADER_NAME.match(str(name)):
            errors[name_key] = ["Not a valid header name."]
        elif name.lower() in RESERVED_HEADERS:
            errors[name_key] = ["This header is set by SalesAssist and cannot be replaced."]
        elif not isinstance(value, str) or len(value) > 4000 or any(ch in value for ch in "\r\n\0"):
            errors[name_key] = ["Must be a string of at most 4000 characters without line breaks."]
        elif not HEADER_VALUE.match(value):
            # httpx sends header values as ASCII: anything else could never be sent.
            errors[name_key] = ["Only printable ASCII characters (and tabs) can be sent in a header value."]
    return errors


def endpoint_problems(config: Mapping) -> dict[str, list[str]]:
    """Problems of where a request goes: config["url"] (SSRF checks included) and config["headers"]."""
    errors = {"config.url": problems} if (problems := url_problems(config.get("url"))) else {}
    errors.update(headers_problems(config.get("headers") or {}))
    return errors


def unknown_keys_problem(config: Mapping, allowed: set[str]) -> dict[str, list[str]]:
    unknown = set(config) - allowed
    return {"config": [f"Unknown keys: {', '.join(sorted(map(str, unknown)))}."]} if unknown else {}


def redact_headers(headers: Mapping, *, custom: Mapping = ()) -> dict:
    """The headers as the attempt log keeps them: sensitive names and every configured (custom) header
    redacted. The log is shown to the engagement's company, which for a global workflow is not the
    workflow's owner; only test mode (the owner's) shows the other values."""
    custom_names = {str(name).lower() for name in custom}
    return {
        name: (REDACTED if SENSITIVE_HEADER.search(name) or name.lower() in custom_names else value)
        for name, value in headers.items()
    }


def headers_for_owner(headers: Mapping) -> dict:
    """The headers as test mode shows them to the workflow's owner: credentials (Authorization, tokens, API
    keys) redacted, the signature and everything else as sent."""
    return {
        name: (REDACTED if SENSITIVE_HEADER.search(name) and name.lower() != SIGNATURE_HEADER else value)
        for name, value in headers.items()
    }


def live_secrets(workflow) -> list[str]:
    """The secrets that sign now: the current one, plus the previous one until its overlap ends."""
    live = [workflow.secret] if workflow.secret else []
    if workflow.previous_secret and workflow.previous_secret_expires_at and workflow.previous_secret_expires_at > (
        timezone.now()
    ):
        live.append(workflow.previous_secret)
    return live


def json_body(value, *, sort_keys: bool = False) -> bytes:
    """Compact JSON; `sort_keys` for a body rendered from a stored template, whose key order PostgreSQL's jsonb
    does not keep: so the same template sends the same bytes on either database."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str, sort_keys=sort_keys).encode()


def configured_headers(config: Mapping) -> dict:
    headers = config.get("headers")
    return dict(headers) if isinstance(headers, Mapping) else {}


def request_headers(prepared: PreparedRequest) -> dict:
    """The request's headers, signed now with every live secret (unsigned when the workflow has none)."""
    headers = {**prepared.custom_headers, "User-Agent": USER_AGENT, "Content-Type": "application/json"}
    if prepared.secrets:
        timestamp = int(time.time())
        headers["webhook-id"] = prepared.message_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = signature_header(
            secrets_=prepared.secrets, message_id=prepared.message_id, timestamp=timestamp, body=prepared.body
        )
    return headers


def request_attempt(prepared: PreparedRequest, *, signed: bool) -> AttemptOutcome:
    """One attempt of the request; a `signed` one is not sent without a live secret. Never raises: the worker
    must always record the attempt."""
    try:
        if signed and not prepared.secrets:
            raise ValueError("The workflow has no signing secret.")
        headers = request_headers(prepared)
    except Exception as exc:
        return _internal_failure(prepared, exc)
    return _request_send(prepared, headers=headers)


def _request_send(prepared: PreparedRequest, *, headers: dict) -> AttemptOutcome:
    """One attempt of the request: sent through the transport, its answer judged (2xx succeeds; 410 is gone,
    429 throttled, Retry-After kept for the retry policy). Never raises."""
    logged_url = prepared.url if prepared.logged_url is None else prepared.logged_url
    outcome = AttemptOutcome(succeeded=False, request_url=logged_url)
    outcome.request_body = prepared.body[:REQUEST_BODY_STORE_LIMIT].decode("utf-8", errors="replace")
    exchange = transport.send(
        prepared.url, method=prepared.method, body=prepared.body, headers=headers, timeout=TOTAL_TIMEOUT
    )
    outcome.duration_ms = exchange.duration_ms
    if exchange.request_headers:
        outcome.request_headers = redact_headers(exchange.request_headers, custom=prepared.custom_headers)
        outcome.exact_request = {
            "method": prepared.method,
            "url": logged_url,
            "headers": headers_for_owner(exchange.request_headers),
            "body": prepared.body.decode("utf-8", errors="replace"),
        }
    if exchange.error_class:
        outcome.error_class, outcome.error_message = exchange.error_class, exchange.error_message
        outcome.throttled = exchange.error_class == AttemptError.TIMEOUT
        return outcome
    outcome.response_status = exchange.status
    outcome.response_headers = dict(list(exchange.headers.items())[:50])
    outcome.response_body = exchange.body[:RESPONSE_STORE_LIMIT].decode("utf-8", errors="replace")
    outcome.succeeded = 200 <= exchange.status < 300
    if not outcome.succeeded:
        outcome.error_class = AttemptError.HTTP_STATUS
        redirect = exchange.redirect_to
        reason = f" (redirect to {redirect!r}, not followed)" if redirect is not None else ""
        outcome.error_message = f"The target answered {exchange.status}{reason}."
        outcome.gone = exchange.status == 410
        outcome.throttled = exchange.status == 429
        outcome.retry_after = exchange.retry_after
    return outcome


def _internal_failure(prepared: PreparedRequest, exc: Exception) -> AttemptOutcome:
    """The outcome of a send that could not even be built."""
    logged_url = prepared.url if prepared.logged_url is None else prepared.logged_url
    return AttemptOutcome(
        succeeded=False,
        request_url=logged_url,
        request_body=prepared.body[:REQUEST_BODY_STORE_LIMIT].decode("utf-8", errors="replace"),
        error_class=AttemptError.INTERNAL,
        error_message=f"{exc.__class__.__name__}: {exc}",
    )
