"""Root URLconf of the SalesAssist Products API host."""
from django.urls import include, path

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

urlpatterns = [
    path("v1/", include("products.api.urls")),
    *schema_urls(__name__, "SalesAssist Products API"),
    *not_found_urls,
]
