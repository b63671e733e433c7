"""What every API host's root URLconf shares: its OpenAPI schema, docs, and problem-details errors."""
from functools import cache
from pathlib import Path

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import path, re_path, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from salesassist.core.api import optional_slash
from salesassist.core.errors import page_not_found

# The docs pages work under the site's Content-Security-Policy with two additions. Swagger UI's start script is
# served as a file of its own (the split view) and our templates move drf-spectacular's inline styles to files;
# both UIs draw icons from data: URLs. Redoc alone styles its markup with <style> elements it writes at run
# time, so its page also allows inline styles, and it parses the schema in a worker it starts from a blob: URL
# of its own script. Scripts stay 'self' only everywhere. The docs load nothing from a third party: no fonts
# (our templates), and no Redocly logo (redoc_bundle).
DOCS_CSP = {"img-src": ["data:"]}
REDOC_CSP = {**DOCS_CSP, "style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# Redoc 2 draws Redocly's logo from its CDN under the menu, with no option to leave it out.
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_bundle_source() -> bytes:
    """The sidecar's Redoc with the logo's address emptied: an empty src loads nothing, and Redoc drops an
    image that fails. A Redoc without that address is served as it is."""
    return Path(finders.find(REDOC_BUNDLE)).read_bytes().replace(REDOC_CDN_LOGO, b"")


@cache_control(public=True, max_age=24 * 3600)
def redoc_bundle(request):
    return HttpResponse(_redoc_bundle_source(), content_type="text/javascript; charset=utf-8")


class LocalRedocView(SpectacularRedocView):
    """Redoc from redoc_bundle, on the host that serves the page."""

    def _redoc_standalone(self):
        return reverse("redoc_bundle")


def schema_urls(urlconf: str, schema_settings: dict) -> list:
    """/v1/schema/ and /v1/docs/ (Swagger UI) and /v1/redoc/ for the host whose URLconf is `urlconf`; its schema
    made with the host's own drf-spectacular settings (`SCHEMA_SETTINGS` in the URLconf: title, webhooks)."""
    return optional_slash(
        [
            path(
                "v1/schema/",
                SpectacularAPIView.as_view(urlconf=urlconf, custom_settings=schema_settings),
                name="schema",
            ),
            path(
                "v1/docs/",
                csp_update(DOCS_CSP)(
                    SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="salesassist/swagger_ui.html")
                ),
                name="docs",
            ),
            path(
                "v1/redoc/",
                csp_update(REDOC_CSP)(
                    LocalRedocView.as_view(url_name="schema", template_name="salesassist/redoc.html")
                ),
                name="redoc",
            ),
            path("v1/redoc/redoc.standalone.js", redoc_bundle, name="redoc_bundle"),
        ]
    )


# The last route of each API host: a path no route matched is a problem-details 404 there, with DEBUG on
# too (Django would answer its HTML page without calling handler404). Exempt from CSRF as the API's own
# views are, so that a POST to a wrong path is a 404, not a CSRF refusal.
not_found_urls = [re_path(r"", csrf_exempt(page_not_found))]

# Each API host's URLconf imports these, so Django answers its own errors there as problem details.
handler400 = "salesassist.core.errors.bad_request"
handler403 = "salesassist.core.errors.permission_denied"
handler404 = "salesassist.core.errors.page_not_found"
handler500 = "salesassist.core.errors.server_error"
