"""The webhook kind: a signed JSON POST (Standard Webhooks) to a checked, pinned public address."""
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from salesassist.core.exceptions import InvalidInput
from salesassist.core.webhook_signing import signature_header

from .. import transport
from ..choices import AttemptError, WorkflowKind
from ..ssrf import BlockedTarget, resolve_target
from .base import REDACTED, REQUEST_BODY_STORE_LIMIT, RESPONSE_STORE_LIMIT, AttemptOutcome, WorkflowKindHandler

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
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


@dataclass
class PreparedWebhook:
    url: str
    body: bytes
    message_id: str
    secrets: list[str]
    custom_headers: dict = field(default_factory=dict)


def redact_headers(headers: Mapping, *, custom: Mapping = ()) -> dict:
    """The headers as the attempt log keeps them: sensitive names and every configured (custom) header
    redacted. The log is shown to the engagement's company, which for a global workflow is not the
    workflow's owner; only test mode (the owner's) shows the exact values."""
    custom_names = {str(name).lower() for name in custom}
    return {
        name: (REDACTED if SENSITIVE_HEADER.search(name) or name.lower() in custom_names else value)
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


def payload_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class WebhookKind(WorkflowKindHandler):
    """POST JSON to config["url"], with config["headers"] added."""

    kind = WorkflowKind.WEBHOOK

    def config_validate(self, config) -> dict:
        if not isinstance(config, Mapping):
            raise InvalidInput("config must be an object.", errors={"config": ['Must be an object {"url", "headers"}.']})
        errors: dict[str, list[str]] = {}
        unknown = set(config) - {"url", "headers"}
        if unknown:
            errors["config"] = [f"Unknown keys: {', '.join(sorted(map(str, unknown)))}."]
        url = config.get("url")
        try:
            resolve_target(url)
        except BlockedTarget as exc:
            errors["config.url"] = [str(exc)]
        headers = config.get("headers") or {}
        if not isinstance(headers, Mapping):
            errors["config.headers"] = ["Must be an object of header names to string values."]
        else:
            if len(headers) > MAX_CUSTOM_HEADERS:
                errors["config.headers"] = [f"At most {MAX_CUSTOM_HEADERS} headers."]
            for name, value in headers.items():
                key = f"config.headers.{name}"
                if not HEADER_NAME.match(str(name)):
                    errors[key] = ["Not a valid header name."]
                elif name.lower() in RESERVED_HEADERS:
                    errors[key] = ["This header is set by SalesAssist and cannot be replaced."]
                elif not isinstance(value, str) or len(value) > 4000 or any(ch in value for ch in "\r\n\0"):
                    errors[key] = ["Must be a string of at most 4000 characters without line breaks."]
                elif not HEADER_VALUE.match(value):
                    # httpx sends header values as ASCII: anything else could never be sent.
                    errors[key] = ["Only printable ASCII characters (and tabs) can be sent in a header value."]
        if errors:
            raise InvalidInput("The webhook configuration is invalid; see errors.", errors=errors)
        return {"url": url, "headers": dict(headers)}

    def prepare(self, *, workflow, event: dict, message_id: str) -> PreparedWebhook:
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        headers = config.get("headers")
        return PreparedWebhook(
            url=str(config.get("url") or ""),
            body=payload_body(event),
            message_id=message_id,
            secrets=live_secrets(workflow),
            custom_headers=dict(headers) if isinstance(headers, Mapping) else {},
        )

    def send(self, prepared: PreparedWebhook) -> AttemptOutcome:
        outcome = AttemptOutcome(succeeded=False, request_url=prepared.url)
        outcome.request_body = prepared.body[:REQUEST_BODY_STORE_LIMIT].decode("utf-8", errors="replace")
        try:
            headers = self._headers(prepared)
        except Exception as exc:  # a send never raises: the worker must always record the attempt
            outcome.error_class = AttemptError.INTERNAL
            outcome.error_message = f"{exc.__class__.__name__}: {exc}"
            return outcome
        exchange = transport.post(prepared.url, body=prepared.body, headers=headers, timeout=TOTAL_TIMEOUT)
        outcome.duration_ms = exchange.duration_ms
        if exchange.request_headers:
            outcome.request_headers = redact_headers(exchange.request_headers, custom=prepared.custom_headers)
            outcome.exact_request = {
                "method": "POST",
                "url": prepared.url,
                "headers": exchange.request_headers,
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

    def _headers(self, prepared: PreparedWebhook) -> dict:
        """The request's headers, signed now with every live secret."""
        if not prepared.secrets:
            raise ValueError("The workflow has no signing secret.")
        timestamp = int(time.time())
        return {
            **prepared.custom_headers,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "webhook-id": prepared.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                secrets_=prepared.secrets, message_id=prepared.message_id, timestamp=timestamp, body=prepared.body
            ),
        }
