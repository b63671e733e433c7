"""Protection of the unauthenticated endpoints: rate limits per client IP and per action (or
receiver), and a body size limit answered as a 413 problem before anything is parsed.

Counters live in the Django cache (CACHE_URL: a shared Redis or memcached when several pods serve).
Rates are read from settings.PUBLIC_THROTTLE_RATES on every request, so settings can change them.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_ip(request) -> str | None:
    """The client's address as the rate limits count it (X-Forwarded-For only behind NUM_PROXIES proxies)."""
    return BaseThrottle().get_ident(request) or None


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is settings.PUBLIC_THROTTLE_RATES[scope]; no rate set means no limit."""

    def get_rate(self):
        return settings.PUBLIC_THROTTLE_RATES.get(self.scope)

    def subject(self, request, view) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        subject = self.subject(request, view)
        if not subject:
            return None
        return self.cache_format % {"scope": self.scope, "ident": subject}


class PublicIpThrottle(SettingsRateThrottle):
    """Requests to action page endpoints from one client IP."""

    scope = "public_ip"

    def subject(self, request, view):
        return self.get_ident(request)


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


def body_within_limit(request) -> bytes:
    """The raw body, or PayloadTooLarge above DATA_UPLOAD_MAX_MEMORY_SIZE.

    DRF reads the body as a stream, which skips Django's own limit; reading `body` here applies it
    (and a Content-Length above it is refused before a byte is read).
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if limit is not None and declared > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    try:
        return request._request.body
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
