"""Root URLconf of the SalesAssist Products API host."""
from django.urls import include, path

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

# drf-spectacular's settings for this host's schema (manage.py spectacular --custom-settings takes them too).
SCHEMA_SETTINGS = {"TITLE": "SalesAssist Products API"}

urlpatterns = [
    path("v1/", include("products.api.urls")),
    *schema_urls(__name__, SCHEMA_SETTINGS),
    *not_found_urls,
]
