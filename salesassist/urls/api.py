"""What every API host's root URLconf shares: its OpenAPI schema, docs, and problem-details errors."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


def schema_urls(urlconf: str, title: str) -> list:
    """/v1/schema/ and /v1/docs/ (Swagger UI) and /v1/redoc/ for the host whose URLconf is `urlconf`."""
    return [
        path(
            "v1/schema/",
            SpectacularAPIView.as_view(urlconf=urlconf, custom_settings={"TITLE": title}),
            name="schema",
        ),
        path("v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
        path("v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    ]


# Each API host's URLconf imports these, so Django answers its own errors there as problem details.
handler400 = "salesassist.core.errors.bad_request"
handler403 = "salesassist.core.errors.permission_denied"
handler404 = "salesassist.core.errors.page_not_found"
handler500 = "salesassist.core.errors.server_error"
