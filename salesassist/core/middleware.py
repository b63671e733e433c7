"""Middleware of the kernel: every request's latency as a metric."""
import time

from .metrics import request_observed


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
