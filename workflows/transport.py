"""Outbound HTTP: one request (POST, PUT or PATCH) to a checked, pinned public address, over within a deadline,
that never raises."""
import email.utils
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone

import httpcore
import httpx

from .choices import AttemptError
from .ssrf import BlockedTarget, resolve_target

CONNECT_TIMEOUT = 3.0
RESPONSE_READ_LIMIT = 64 * 1024
# The longest wait a target's Retry-After can ask for (seconds): longer asks are cut to this.
RETRY_AFTER_MAX = 24 * 3600.0
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class Exchange:
    """One request: the headers sent, and the answer (status, headers, the start of the body) or why none came."""

    request_headers: dict = field(default_factory=dict)  # as sent, Host included; empty if nothing was sent
    status: int | None = None
    headers: dict = field(default_factory=dict)  # the answer's, names in lower case
    body: bytes = b""  # at most RESPONSE_READ_LIMIT bytes: the rest is never read
    duration_ms: int = 0
    error_class: str = ""  # an AttemptError when no complete answer came
    error_message: str = ""

    @property
    def redirect_to(self) -> str | None:
        """Where a redirect points (redirects are never followed); None for any other answer."""
        return self.headers.get("location") if self.status in REDIRECT_STATUSES else None

    @property
    def retry_after(self) -> float | None:
        """The answer's Retry-After, in seconds."""
        return retry_after_seconds(self.headers.get("retry-after"))


class ExchangeTimeout(Exception):
    """The whole exchange took longer than its deadline."""


# The monotonic time by which this thread's current exchange must be over (None: no exchange in progress),
# and how many seconds it was given.
_deadline = threading.local()


def _time_left(exc_class) -> float | None:
    """Seconds left of this thread's exchange, or None without one; exc_class when it is already over."""
    deadline = getattr(_deadline, "at", None)
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc_class(f"No complete answer within {_deadline.seconds:g} s.")
    return left


def _capped(timeout: float | None, exc_class) -> float | None:
    left = _time_left(exc_class)
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the exchange's overall deadline.

    httpx's timeouts are per socket operation: a target that trickles its status line and headers one
    byte at a time never trips them. Each I/O call here gets at most the time left of the whole exchange,
    so a POST (headers and body alike, on a new or a reused keep-alive connection) never outlives its
    deadline by more than one scheduling tick.
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


def retry_after_seconds(value: str | None) -> float | None:
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


def send(url: str, *, body: bytes, headers: dict, timeout: float, method: str = "POST") -> Exchange:
    """Send the body (POST by default) to the URL's checked address, all of it (DNS, connect, send, answer)
    within `timeout` seconds. Host is set here (from the URL), and the answer is asked for unencoded, as it
    is read raw."""
    started = time.monotonic()
    exchange = Exchange()
    _deadline.at, _deadline.seconds = started + timeout, timeout
    try:
        _send(
            url, method=method, body=body, headers=headers, exchange=exchange, deadline=_deadline.at, timeout=timeout
        )
    except BlockedTarget as exc:
        exchange.error_class = AttemptError.DNS if exc.unresolvable else AttemptError.BLOCKED_TARGET
        exchange.error_message = str(exc)
    except (httpx.TimeoutException, ExchangeTimeout) as exc:
        exchange.error_class = AttemptError.TIMEOUT
        exchange.error_message = str(exc) or f"No complete answer within {timeout:g} s."
    except (httpx.HTTPError, OSError) as exc:
        exchange.error_class = AttemptError.CONNECTION
        exchange.error_message = f"{exc.__class__.__name__}: {exc}"
    except Exception as exc:  # never raises: the worker must always record the attempt
        exchange.error_class = AttemptError.INTERNAL
        exchange.error_message = f"{exc.__class__.__name__}: {exc}"
    finally:
        _deadline.at = None
    exchange.duration_ms = int((time.monotonic() - started) * 1000)
    return exchange


def _send(
    url: str, *, method: str, body: bytes, headers: dict, exchange: Exchange, deadline: float, timeout: float
) -> None:
    target = resolve_target(url, timeout=_time_left(ExchangeTimeout))
    sent = {"Host": target.host_header, **headers, "Accept-Encoding": "identity"}
    exchange.request_headers = sent
    remaining = max(0.1, deadline - time.monotonic())
    client = _client_for(target.host)
    request = client.build_request(
        method,
        target.pinned_url,
        content=body,
        headers=sent,
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
                raise ExchangeTimeout(f"The answer took longer than {timeout:g} s.")
    finally:
        response.close()
    exchange.status = response.status_code
    exchange.headers = dict(response.headers.items())
    exchange.body = b"".join(chunks)[:RESPONSE_READ_LIMIT]
