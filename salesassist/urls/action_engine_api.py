"""Root URLconf of the SalesAssist Action Engine API host: the engine's routes and the workflows app's."""
from django.urls import include, path

from workflows.api.webhooks import EVENT_WEBHOOKS

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

# drf-spectacular's settings for this host's schema (manage.py spectacular --custom-settings takes them too):
# it publishes every event type the workflows send as an OpenAPI 3.1 webhook.
SCHEMA_SETTINGS = {"TITLE": "SalesAssist Action Engine API", "WEBHOOKS": EVENT_WEBHOOKS}

urlpatterns = [
    path("v1/", include("action_engine.api.urls")),
    path("v1/", include("workflows.api.urls")),
    *schema_urls(__name__, SCHEMA_SETTINGS),
    *not_found_urls,
]
