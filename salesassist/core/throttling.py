"""Protection of the unauthenticated endpoints and of authentication: rate limits per client IP and per
action (or receiver), a limit on failed authentications per client IP, and a body size limit answered as
a 413 problem before anything is parsed.

Counters live in the Django cache, and only a cache that every process shares holds a limit: with
several web processes that is Redis (CACHE_URL=redis://…); the default local-memory cache counts per
process and suits one development server only. Each count is one atomic INCR, so parallel requests in
any number of processes never pass more than the limit.

When the cache cannot be reached, the limits fail open: the request is served and a warning logged.
They guard against abuse, not against access: API keys carry 256 random bits and stay unguessable
without them, admin logins are locked out in the database (django-axes), and failing closed would turn
a cache outage into an outage of every page and API call.

Rates are read from settings.PUBLIC_THROTTLE_RATES on every request, so settings can change them.
"""

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from redis.exceptions import RedisError
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is down or too slow: Redis's client errors, and the socket
# errors of the memcached clients.
CACHE_UNAVAILABLE = (RedisError, OSError)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request) -> str | None:
    """The client's address as the rate limits count it (X-Forwarded-For only behind NUM_PROXIES proxies).

    Where that hop of X-Forwarded-For is no address (more proxies configured than stand in front, so the
    client wrote it), the peer's address is taken: it is stored in address columns (login attempts,
    inbound calls), and a forged value must not make a request fail.
    """
    address = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return request.META.get("REMOTE_ADDR") or None


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate syntax, "N/period" (s, sec, m, min, h, hour, d, day): (N, seconds)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


@dataclass(frozen=True)
class Window:
    """A subject's count in its current window, and the seconds until that window closes."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def full(self) -> bool:
        return self.count >= self.limit


class RateCounter:
    """Events per subject in a fixed window that opens at the subject's first event.

    The window's start is one cache key (written once, with `add`), its count another whose name holds
    that start: the count only ever grows by `incr`, which is atomic on Redis and memcached, and lives
    twice as long as the window, so it never expires under an `incr` (which would leave it without
    an expiry). A new window is a new count key.
    """

    def __init__(self, scope: str, rate: str):
        self.scope = scope
        self.limit, self.duration = parse_rate(rate)

    def _start_key(self, subject: str) -> str:
        return f"throttle:{self.scope}:{subject}"

    def _count_key(self, subject: str, start: float) -> str:
        return f"throttle:{self.scope}:{subject}:{start:.6f}"

    def _window(self, count: int, start: float, now: float) -> Window:
        return Window(count=count, limit=self.limit, retry_after=max(1, math.ceil(start + self.duration - now)))

    def hit(self, subject: str) -> Window:
        """Count one event of `subject`."""
        now = time.time()
        start_key = self._start_key(subject)
        start = now if cache.add(start_key, now, timeout=self.duration) else cache.get(start_key)
        if start is None:  # the window closed between add and get: this event opens the next one
            cache.add(start_key, now, timeout=self.duration)
            start = cache.get(start_key, now)
        count_key = self._count_key(subject, start)
        cache.add(count_key, 0, timeout=2 * self.duration)
        try:
            count = cache.incr(count_key)
        except ValueError:  # evicted (a full cache): counting starts again
            cache.add(count_key, 1, timeout=2 * self.duration)
            count = 1
        return self._window(count, start, now)

    def peek(self, subject: str) -> Window:
        """`subject`'s count so far, without counting."""
        now = time.time()
        start = cache.get(self._start_key(subject))
        if start is None:
            return Window(count=0, limit=self.limit, retry_after=0)
        return self._window(cache.get(self._count_key(subject, start), 0), start, now)


class SettingsRateThrottle(BaseThrottle):
    """A throttle whose rate is settings.PUBLIC_THROTTLE_RATES[scope]; no rate set means no limit."""

    scope: str

    def subject(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = settings.PUBLIC_THROTTLE_RATES.get(self.scope)
        subject = self.subject(request, view)
        if not rate or not subject:
            return True
        try:
            self.window = RateCounter(self.scope, rate).hit(subject)
        except CACHE_UNAVAILABLE as exc:
            logger.warning("Rate limit %s not applied: the cache is unavailable (%s)", self.scope, exc)
            return True
        return not self.window.exceeded

    def wait(self) -> float:
        return self.window.retry_after


class PublicIpThrottle(SettingsRateThrottle):
    """Requests to action page endpoints from one client IP."""

    scope = "public_ip"

    def subject(self, request, view):
        return client_ip(request)


class PublicActionThrottle(SettingsRateThrottle):
    """Requests naming one action, from anywhere: caps what a botnet can push into one action."""

    scope = "public_action"

    def subject(self, request, view):
        return view.throttle_subject(request)


class ReceiverIpThrottle(PublicIpThrottle):
    """Calls to receivers from one client IP."""

    scope = "receiver_ip"


class ReceiverThrottle(PublicActionThrottle):
    """Calls to one receiver, from anywhere."""

    scope = "receiver"


class ReceiverSignatureFailureThrottle(PublicActionThrottle):
    """Calls to one receiver that failed its signature check, from anywhere: the receiver counts only these
    against it, so above the rate forged calls are neither kept nor slow down the genuine ones."""

    scope = "receiver_signature_failures"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def body_within_limit(request, *, limit: int | None = None) -> bytes:
    """The raw body, or PayloadTooLarge above `limit` (default: DATA_UPLOAD_MAX_MEMORY_SIZE).

    DRF reads the body as a stream, which skips Django's own limit; reading `body` here applies it
    (and a Content-Length above it is refused before a byte is read). An endpoint made for larger uploads (a
    bulk import) passes its own, higher limit: the stream is then read here, bounded by it.
    """
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    limit = django_limit if limit is None else limit
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if limit is not None and declared > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    django_request = request._request
    if limit is not None and django_limit is not None and limit > django_limit and not django_request._read_started:
        body = django_request.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        django_request._body = body  # what `request.body` answers from now on, as Django itself keeps it
        return body
    try:
        return django_request.body
    except RequestDataTooBig as exc:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.") from exc


class PublicEndpointMixin:
    """No API key; guarded by uuids, validation, a body limit and the throttles the view lists."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        if request.method in ("POST", "PUT", "PATCH"):
            body_within_limit(request)
        super().initial(request, *args, **kwargs)

    def throttle_subject(self, request) -> str | None:
        """What the per-action throttle counts: the action (or receiver) this request names."""
        return None
