"""Root URLconf of the SalesAssist Action Engine API host: the engine's routes and the workflows app's."""
from django.urls import include, path

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

urlpatterns = [
    path("v1/", include("action_engine.api.urls")),
    path("v1/", include("workflows.api.urls")),
    *schema_urls(__name__, "SalesAssist Action Engine API"),
    *not_found_urls,
]
