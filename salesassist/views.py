"""Views of the default host: the landing page, the health checks and the metrics."""
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge

from workflows.choices import DeliveryStatus
from workflows.selectors import deliveries_summary

from .core.errors import PROBLEM_CONTENT_TYPE, problem_body
from .core.exceptions import CoreError
from .core.health import health_status, readiness_failures
from .core.metrics import metrics_exposition, metrics_refusal
from .hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API


@require_GET
@never_cache
def healthz(request):
    """Database and worker status (with the heartbeat's age) as JSON, for people and dashboards; 503 only when
    the database is down. A missing worker is "degraded", not a reason to stop serving: probes use live/ready."""
    status = health_status()
    return JsonResponse(status, status=503 if status["status"] == "down" else 200)


@require_GET
@never_cache
def healthz_live(request):
    """Liveness: the process answers requests. No I/O, so a slow database never gets a pod restarted."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def healthz_ready(request):
    """Readiness: the database and the cache answer; otherwise 503 with a problem naming what failed."""
    failures = readiness_failures()
    if not failures:
        return JsonResponse({"status": "ok", "database": {"status": "ok"}, "cache": {"status": "ok"}})
    body = problem_body(
        status_code=503,
        code=CoreError.NOT_READY,
        detail=f"Not ready to serve requests: {', '.join(sorted(failures))} failed; see errors.",
        errors=failures,
    )
    return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)


def _database_metrics() -> CollectorRegistry:
    """The gauges read from the database at scrape time (one statement): they hold for every process."""
    registry = CollectorRegistry()
    counts, oldest_due_age = deliveries_summary()
    deliveries = Gauge(
        "salesassist_deliveries", "Deliveries by status, read from the database.", ["status"], registry=registry
    )
    for status in DeliveryStatus.values:
        deliveries.labels(status=status).set(counts[status])
    Gauge(
        "salesassist_delivery_oldest_due_age_seconds",
        "How long the oldest due delivery (a worker would take it now) has waited past its time; 0 when none.",
        registry=registry,
    ).set(oldest_due_age or 0)
    return registry


@require_GET
@never_cache
def metrics(request):
    """Prometheus metrics of every web process (and the database gauges); a problem when refused."""
    refusal = metrics_refusal(authorization=request.headers.get("Authorization", ""))
    if refusal is not None:
        status_code, body, headers = refusal
        response = JsonResponse(body, status=status_code)
        for name, value in headers:
            response[name] = value
        return response
    return HttpResponse(metrics_exposition(_database_metrics()), content_type=CONTENT_TYPE_LATEST)


class LandingView(TemplateView):
    """Links to admin and the three APIs' interactive docs."""

    template_name = "salesassist/landing.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["apis"] = [
            ("CRM", CRM_API, "Companies, leads, visitors, lead receivers and every lead's feed."),
            ("Products", PRODUCTS_API, "The PIM: products with variants, and content."),
            ("Action engine", ACTION_ENGINE_API, "Actions, company actions, workflows, engagements, deliveries."),
        ]
        return context
