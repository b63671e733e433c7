"""CORS for action pages: which browser origins may call the public endpoints.

Allowed: settings.CORS_ALLOWED_ORIGINS (django-cors-headers checks those itself), the default host's
own origin (our reference page), and each company's settings["cors_origins"]. django-cors-headers
asks `check_request_enabled` for anything else; a preflight carries no body, so for the engagements
endpoint any company's origin passes the preflight and the view then checks the action's company.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from crm.models import Company

PUBLIC_PATH = re.compile(r"^/v1/public/")
ACTION_PATH = re.compile(r"^/v1/public/actions/(?P<uuid>[0-9a-fA-F-]{32,36})/?$")
ALL_ORIGINS_CACHE_KEY = "action_engine:cors:all_company_origins"
# Origins are company settings edited in admin: a minute of staleness is fine and saves a query per preflight.
ALL_ORIGINS_CACHE_SECONDS = 60


def _normalized(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def company_cors_origins(company: Company) -> set[str]:
    origins = (company.settings or {}).get("cors_origins") if isinstance(company.settings, dict) else None
    if not isinstance(origins, list):
        return set()
    return {_normalized(origin) for origin in origins if isinstance(origin, str)}


def is_default_host_origin(origin: str) -> bool:
    """Our own reference page: the parent host name, on any port, over http or https."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and hostname == settings.PARENT_HOST.lower()


def request_origin_allowed_for(*, origin: str, company: Company) -> bool:
    """May a page served from `origin` call the public endpoints for this company's actions?"""
    normalized = _normalized(origin)
    return (
        is_default_host_origin(origin)
        or normalized in {_normalized(allowed) for allowed in settings.CORS_ALLOWED_ORIGINS}
        or normalized in company_cors_origins(company)
    )


def _any_company_origins() -> set[str]:
    origins = cache.get(ALL_ORIGINS_CACHE_KEY)
    if origins is None:
        origins = set()
        for company in Company.objects.filter(is_active=True).exclude(settings={}).only("settings"):
            origins |= company_cors_origins(company)
        cache.set(ALL_ORIGINS_CACHE_KEY, origins, ALL_ORIGINS_CACHE_SECONDS)
    return origins


def public_origin_allowed(sender, request, **kwargs) -> bool:
    """The `corsheaders.signals.check_request_enabled` receiver."""
    origin = request.headers.get("Origin")
    if not origin or not PUBLIC_PATH.match(request.path_info):
        return False
    if is_default_host_origin(origin):
        return True
    match = ACTION_PATH.match(request.path_info)
    if match:
        from action_engine.models import ActionCompany
        from action_engine.systems import parse_uuid

        action_uuid = parse_uuid(match["uuid"])
        action_company = (
            ActionCompany.objects.select_related("company").filter(uuid=action_uuid).first() if action_uuid else None
        )
        return action_company is not None and _normalized(origin) in company_cors_origins(action_company.company)
    return _normalized(origin) in _any_company_origins()
