"""API-key authentication and the company-membership permission every API view uses."""
import logging
from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions, permissions

from salesassist.core.throttling import CACHE_UNAVAILABLE, RateCounter, client_ip

from .models import ApiKey, Company
from .services import api_key_authenticate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """The caller behind an API key: acts for its company, never as a staff user."""

    api_key: ApiKey

    is_authenticated = True
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None

    @property
    def company(self) -> Company:
        return self.api_key.company


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`. Unknown or revoked keys are 401.

    Failed attempts are counted per client address (settings.PUBLIC_THROTTLE_RATES["api_key_failures"],
    in the shared cache): once an address has failed that many times in a window, every attempt from it,
    even with a valid key, is a 429 until the window closes, so keys cannot be tried by the thousand.
    """

    keyword = "Bearer"
    failure_scope = "api_key_failures"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        failures = self._failure_counter()
        address = client_ip(request)
        self._refuse_if_too_many_failures(failures, address)
        token = token.strip()
        if not token:
            self._count_failure(failures, address)
            raise exceptions.AuthenticationFailed("The Authorization header has no key.")
        api_key = api_key_authenticate(token=token)
        if api_key is None:
            self._count_failure(failures, address)
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return ApiKeyPrincipal(api_key), api_key

    def _failure_counter(self) -> RateCounter | None:
        rate = settings.PUBLIC_THROTTLE_RATES.get(self.failure_scope)
        return RateCounter(self.failure_scope, rate) if rate else None

    def _refuse_if_too_many_failures(self, failures: RateCounter | None, address: str | None) -> None:
        if failures is None or address is None:
            return
        try:
            window = failures.peek(address)
        except CACHE_UNAVAILABLE as exc:  # fail open: see salesassist/core/throttling.py
            logger.warning("API-key failure limit not applied: the cache is unavailable (%s)", exc)
            return
        if window.full:
            raise exceptions.Throttled(
                wait=window.retry_after, detail="Too many failed API-key authentications from this address."
            )

    def _count_failure(self, failures: RateCounter | None, address: str | None) -> None:
        if failures is None or address is None:
            return
        try:
            window = failures.hit(address)
        except CACHE_UNAVAILABLE as exc:
            logger.warning("API-key failure not counted: the cache is unavailable (%s)", exc)
            return
        if window.count == window.limit:
            logger.warning(
                "API-key authentication refused for %s s: %s failures from %s",
                window.retry_after,
                window.count,
                address,
            )

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def request_company(request) -> Company | None:
    """The company a request acts for: its API key's, or the signed-in staff user's first membership."""
    if isinstance(request.auth, ApiKey):
        return request.auth.company
    user = request.user
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(request, "_salesassist_company", None)
    if cached is None:
        membership = user.memberships.select_related("company").order_by("created_at").first()
        cached = membership.company if membership else False
        request._salesassist_company = cached
    return cached or None


class IsCompanyMember(permissions.BasePermission):
    """The caller acts for an active company; writing needs a read-write key."""

    message = "This key or user does not belong to an active company."

    def has_permission(self, request, view) -> bool:
        company = request_company(request)
        if company is None or not company.is_active:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, ApiKey) and not request.auth.can_write:
            self.message = "This API key is read-only."
            return False
        return True


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents ApiKeyAuthentication as the `Authorization: Bearer <api key>` scheme in every schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        definition = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        definition["description"] = "A company API key: `Authorization: Bearer sa_<prefix>_<secret>`."
        return definition
