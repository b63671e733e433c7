"""API-key authentication and the company-membership permission every API view uses."""
from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions, permissions

from .models import ApiKey, Company
from .services import api_key_authenticate


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
    """`Authorization: Bearer <key>`. Unknown or revoked keys are 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("The Authorization header has no key.")
        api_key = api_key_authenticate(token=token)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return ApiKeyPrincipal(api_key), api_key

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
