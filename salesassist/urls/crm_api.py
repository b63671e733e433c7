"""Root URLconf of the SalesAssist CRM API host: the CRM's routes and a lead's feed (the action engine's)."""
from django.urls import include, path

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

# drf-spectacular's settings for this host's schema (manage.py spectacular --custom-settings takes them too).
SCHEMA_SETTINGS = {"TITLE": "SalesAssist CRM API"}

urlpatterns = [
    path("v1/", include("crm.api.urls")),
    path("v1/", include("action_engine.api.feed_urls")),
    *schema_urls(__name__, SCHEMA_SETTINGS),
    *not_found_urls,
]
