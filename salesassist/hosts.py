"""Routing by host name: one URLconf per API, the default host for admin and pages.

Host names are `<name>.<PARENT_HOST>`; an unknown host gets the default host.
"""
from django_hosts import host, patterns

DEFAULT = "default"
CRM_API = "crm_api"
PRODUCTS_API = "products_api"
ACTION_ENGINE_API = "action_engine_api"

# The host-name prefix of each API, for building URLs and Host headers.
API_SUBDOMAINS = {
    CRM_API: "api.crm",
    PRODUCTS_API: "api.products",
    ACTION_ENGINE_API: "api.action-engine",
}

host_patterns = patterns(
    "",
    host(r"api\.crm", "salesassist.urls.crm_api", name=CRM_API),
    host(r"api\.products", "salesassist.urls.products_api", name=PRODUCTS_API),
    host(r"api\.action-engine", "salesassist.urls.action_engine_api", name=ACTION_ENGINE_API),
    host(r"", "salesassist.urls.default", name=DEFAULT),
)
