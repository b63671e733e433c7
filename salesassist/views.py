"""Views of the default host: the landing page and the health check."""
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from .core.health import health_status
from .hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API


@require_GET
@never_cache
def healthz(request):
    """Database and worker status as JSON; 503 only when the database is down."""
    status = health_status()
    return JsonResponse(status, status=503 if status["status"] == "down" else 200)


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
