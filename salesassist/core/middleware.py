"""Middleware of the kernel: a scrape of /metrics by a pod's address, and every request's latency."""
import time

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from .metrics import request_observed

METRICS_PATH = "/metrics"


class MetricsScrapeHostMiddleware:
    """Prometheus scrapes each pod by its address (`Host: <pod IP>:8000`), which is no allowed host and cannot
    be changed in a scrape; such a request for /metrics, which needs its token anyway, is answered by the
    default host. A request naming an allowed host is left alone (an API host has no /metrics).

    First of all middleware: django-hosts reads the host (and Django refuses an unknown one) after it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH:
            domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
            if not validate_host(domain, settings.ALLOWED_HOSTS):
                request.META["HTTP_HOST"] = settings.PARENT_HOST
        return self.get_response(request)


class RequestMetricsMiddleware:
    """Time every answer, labelled by its django-hosts host (never by path: a bounded set of series).

    Right after HostsRequestMiddleware, which names the host: everything below it, view included, is timed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        host = getattr(request, "host", None)
        request_observed(
            host=host.name if host is not None else "unknown",
            method=request.method,
            status_code=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
