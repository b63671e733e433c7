"""What every API host's root URLconf shares: its OpenAPI schema, docs, and problem-details errors."""
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from salesassist.core.api import optional_slash
from salesassist.core.errors import page_not_found

# The docs pages work under the site's Content-Security-Policy with two additions. Swagger UI's start script is
# served as a file of its own (the split view) and our templates move drf-spectacular's inline styles to files;
# both UIs draw icons from data: URLs. Redoc alone styles its markup with <style> elements it writes at run
# time, so its page also allows inline styles, and it parses the schema in a worker it starts from a blob: URL
# of its own script. Scripts stay 'self' only everywhere. Redoc's logo from its CDN
# stays refused: the docs load nothing from a third party.
DOCS_CSP = {"img-src": ["data:"]}
REDOC_CSP = {**DOCS_CSP, "style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


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
                    SpectacularRedocView.as_view(url_name="schema", template_name="salesassist/redoc.html")
                ),
                name="redoc",
            ),
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
