"""The webhook kind: a signed JSON POST (Standard Webhooks) to a checked, pinned public address."""
import email.utils
import json
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone

import httpcore
import httpx
from django.utils import timezone

from salesassist.core.exceptions import InvalidInput
from salesassist.core.webhook_signing import signature_header

from ..choices import AttemptError, WorkflowKind
from ..payloads import engagement_payload
from ..ssrf import BlockedTarget, resolve_target
from .base import (
    REDACTED,
    REQUEST_BODY_STORE_LIMIT,
    RESPONSE_READ_LIMIT,
    RESPONSE_STORE_LIMIT,
    RETRY_AFTER_MAX,
    AttemptOutcome,
    WorkflowKindHandler,
)

USER_AGENT = "SalesAssist-Webhooks/1.0"
CONNECT_TIMEOUT = 3.0
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


class WebhookTimeout(Exception):
    """The whole exchange took longer than TOTAL_TIMEOUT."""


# The monotonic time by which this thread's current send must be over (None: no send in progress).
_deadline = threading.local()


def _time_left(exc_class) -> float | None:
    """Seconds left of this thread's send, or None without one; exc_class when it is already over."""
    deadline = getattr(_deadline, "at", None)
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc_class(f"No complete answer within {TOTAL_TIMEOUT:g} s.")
    return left


def _capped(timeout: float | None, exc_class) -> float | None:
    left = _time_left(exc_class)
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the send's overall deadline.

    httpx's timeouts are per socket operation: a target that trickles its status line and headers one
    byte at a time never trips them. Each I/O call here gets at most the time left of the whole exchange,
    so a send (headers and body alike, on a new or a reused keep-alive connection) never outlives
    TOTAL_TIMEOUT by more than one scheduling tick.
    """

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _capped(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self):
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._backend.connect_tcp(
            host, port, _capped(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - not used
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport, with its connection pool on the deadline-keeping network backend."""

    def __init__(self, *, limits: httpx.Limits, socket_options):
        super().__init__(limits=limits, socket_options=socket_options)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            socket_options=socket_options,
            network_backend=_DeadlineBackend(),
        )


_clients: "OrderedDict[str, httpx.Client]" = OrderedDict()
_clients_lock = threading.Lock()
_CLIENT_CACHE_SIZE = 256


def _client_for(host: str) -> httpx.Client:
    """One client (connection pool) per host name and process.

    Connections go to pinned addresses, so a pool is keyed by address: one pool per host name keeps a
    TLS connection made for one name (SNI, certificate) from being reused for another on the same address.
    """
    with _clients_lock:
        client = _clients.get(host)
        if client is None:
            client = httpx.Client(
                follow_redirects=False,
                trust_env=False,  # no proxies from the environment: they would bypass the address pinning
                timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
                # Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and
                # the receiver's delayed ACK hold the body back ~40 ms on every request.
                transport=_DeadlineTransport(
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                    socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                ),
            )
            _clients[host] = client
            while len(_clients) > _CLIENT_CACHE_SIZE:
                _clients.popitem(last=False)
        else:
            _clients.move_to_end(host)
        return client


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone accepts "²" and other non-ASCII digits
        # An absurdly long number is "very long": the cap, without converting it.
        return RETRY_AFTER_MAX if len(value) > 9 else min(float(value), RETRY_AFTER_MAX)
    if len(value) > 100:  # an HTTP date is ~30 characters
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt_timezone.utc)
    return min(max(0.0, (when - datetime.now(dt_timezone.utc)).total_seconds()), RETRY_AFTER_MAX)


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

    def prepare(self, *, workflow, engagement, message_id: str) -> PreparedWebhook:
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        headers = config.get("headers")
        return PreparedWebhook(
            url=str(config.get("url") or ""),
            body=payload_body(engagement_payload(engagement=engagement)),
            message_id=message_id,
            secrets=live_secrets(workflow),
            custom_headers=dict(headers) if isinstance(headers, Mapping) else {},
        )

    def send(self, prepared: PreparedWebhook) -> AttemptOutcome:
        started = time.monotonic()
        outcome = AttemptOutcome(succeeded=False, request_url=prepared.url)
        outcome.request_body = prepared.body[:REQUEST_BODY_STORE_LIMIT].decode("utf-8", errors="replace")
        _deadline.at = started + TOTAL_TIMEOUT
        try:
            self._send(prepared, outcome, started)
        except BlockedTarget as exc:
            outcome.error_class = AttemptError.DNS if exc.unresolvable else AttemptError.BLOCKED_TARGET
            outcome.error_message = str(exc)
        except (httpx.TimeoutException, WebhookTimeout) as exc:
            outcome.error_class = AttemptError.TIMEOUT
            outcome.error_message = str(exc) or f"No complete answer within {TOTAL_TIMEOUT:g} s."
            outcome.throttled = True
        except (httpx.HTTPError, OSError) as exc:
            outcome.error_class = AttemptError.CONNECTION
            outcome.error_message = f"{exc.__class__.__name__}: {exc}"
        except Exception as exc:  # a send never raises: the worker must always record the attempt
            outcome.error_class = AttemptError.INTERNAL
            outcome.error_message = f"{exc.__class__.__name__}: {exc}"
        finally:
            _deadline.at = None
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    def _send(self, prepared: PreparedWebhook, outcome: AttemptOutcome, started: float) -> None:
        target = resolve_target(prepared.url, timeout=_time_left(WebhookTimeout))
        if not prepared.secrets:
            raise ValueError("The workflow has no signing secret.")
        timestamp = int(time.time())
        headers = {
            **prepared.custom_headers,
            "Host": target.host_header,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
            "webhook-id": prepared.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                secrets_=prepared.secrets, message_id=prepared.message_id, timestamp=timestamp, body=prepared.body
            ),
        }
        outcome.request_headers = redact_headers(headers, custom=prepared.custom_headers)
        outcome.exact_request = {
            "method": "POST",
            "url": prepared.url,
            "headers": headers,
            "body": prepared.body.decode("utf-8", errors="replace"),
        }
        deadline = started + TOTAL_TIMEOUT
        remaining = max(0.1, deadline - time.monotonic())
        client = _client_for(target.host)
        request = client.build_request(
            "POST",
            target.pinned_url,
            content=prepared.body,
            headers=headers,
            timeout=httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT, remaining)),
            extensions={"sni_hostname": target.host} if target.scheme == "https" else None,
        )
        response = client.send(request, stream=True)
        try:
            chunks, size = [], 0
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= RESPONSE_READ_LIMIT:
                    break  # the rest is never read: the connection is dropped on close
                if time.monotonic() > deadline:
                    raise WebhookTimeout(f"The answer took longer than {TOTAL_TIMEOUT:g} s.")
        finally:
            response.close()
        body = b"".join(chunks)[:RESPONSE_READ_LIMIT]
        outcome.response_status = response.status_code
        outcome.response_headers = dict(list(response.headers.items())[:50])
        outcome.response_body = body[:RESPONSE_STORE_LIMIT].decode("utf-8", errors="replace")
        outcome.succeeded = 200 <= response.status_code < 300
        if not outcome.succeeded:
            outcome.error_class = AttemptError.HTTP_STATUS
            reason = f" (redirect to {response.headers.get('location')!r}, not followed)" if response.is_redirect else ""
            outcome.error_message = f"The target answered {response.status_code}{reason}."
            outcome.gone = response.status_code == 410
            outcome.throttled = response.status_code == 429
            outcome.retry_after = _retry_after_seconds(response.headers.get("retry-after"))
