"""Prometheus metrics: the counters and histograms the domain services feed, and who may read them.

Every process keeps its own values; with PROMETHEUS_MULTIPROC_DIR set (gunicorn's workers, django-q2's
forked workers) each process writes them to files in that directory and a scrape adds them up, so a value
neither depends on which worker answered the scrape nor vanishes when a worker is recycled. Without it
(development, tests) they live in the process's memory.

Counters are incremented after the change commits (`transaction.on_commit`): a rolled-back engagement is
not counted. Nothing here touches the database.
"""
import hmac
import json
import os
import threading
from functools import partial
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.db import transaction
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector

from .errors import PROBLEM_CONTENT_TYPE, problem_for
from .exceptions import CoreError, DomainError, NotAuthenticated, PermissionDenied
from .metrics_dir import MULTIPROC_DIR_VARIABLE, multiproc_dir_ensure

multiproc_dir_ensure()

# Seconds; a request answered within 5 ms up to one that hit gunicorn's 30 s timeout.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Seconds; a webhook answered at once up to one that ran into the transport's 15 s deadline.
ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)
# Methods a label may name; anything else is "other", so a client cannot add label values.
REQUEST_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})

http_request_duration = Histogram(
    "salesassist_http_request_duration_seconds",
    "Time to answer a request, by django-hosts host, method and status class (2xx, 4xx, ...).",
    ["host", "method", "status"],
    buckets=REQUEST_BUCKETS,
)
engagements_recorded = Counter(
    "salesassist_engagements_recorded",
    "Engagements recorded (replays of one already recorded are not counted), by action system and stage.",
    ["system", "stage"],
)
delivery_attempts = Counter(
    "salesassist_delivery_attempts",
    "Delivery attempts made, by outcome: succeeded, http_error (the target answered non-2xx), "
    "transport_error (no answer: timeout, connection, refused target).",
    ["outcome"],
)
delivery_attempt_duration = Histogram(
    "salesassist_delivery_attempt_duration_seconds",
    "Time one delivery attempt took, by outcome.",
    ["outcome"],
    buckets=ATTEMPT_BUCKETS,
)
inbound_calls = Counter(
    "salesassist_inbound_calls",
    "Calls to receivers, by receiver kind (the stored call's model) and outcome: processed, failed "
    "(refused with a problem), rejected (failed the signature check). Replays count again.",
    ["receiver", "outcome"],
)


def request_observed(*, host: str, method: str, status_code: int, seconds: float) -> None:
    method = method if method in REQUEST_METHODS else "other"
    http_request_duration.labels(host=host, method=method, status=f"{status_code // 100}xx").observe(seconds)


def engagement_counted(*, system: str, stage: str) -> None:
    """Count a recorded engagement once its transaction commits."""
    transaction.on_commit(partial(engagements_recorded.labels(system=system, stage=stage).inc))


def delivery_attempt_observed(*, succeeded: bool, answered: bool, seconds: float) -> None:
    outcome = "succeeded" if succeeded else "http_error" if answered else "transport_error"
    delivery_attempts.labels(outcome=outcome).inc()
    delivery_attempt_duration.labels(outcome=outcome).observe(seconds)


def inbound_call_counted(*, receiver: str, outcome: str) -> None:
    """Count an inbound call's outcome once it is stored (its transaction commits)."""
    transaction.on_commit(partial(inbound_calls.labels(receiver=receiver, outcome=outcome).inc))


def metrics_access_check(*, authorization: str) -> None:
    """Whether a scrape may read the metrics: with METRICS_TOKEN set, only with `Bearer <token>`; without it
    only in development (DEBUG on) — a production deployment that forgot the token is closed, not open."""
    token = settings.METRICS_TOKEN
    if not token:
        if settings.DEBUG:
            return
        raise PermissionDenied(
            "Metrics are closed: set METRICS_TOKEN and scrape with it as a bearer token.",
            code=CoreError.METRICS_CLOSED,
        )
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise NotAuthenticated(
            "Send the metrics token as `Authorization: Bearer <token>`.", code=CoreError.METRICS_TOKEN_INVALID
        )


def metrics_refusal(*, authorization: str) -> tuple[int, dict, list[tuple[str, str]]] | None:
    """None when the scrape may read the metrics; else the status, problem details and headers refusing it."""
    try:
        metrics_access_check(authorization=authorization)
    except DomainError as error:
        status_code, body = problem_for(error)
        headers = [("Content-Type", PROBLEM_CONTENT_TYPE)]
        if isinstance(error, NotAuthenticated):
            headers.append(("WWW-Authenticate", 'Bearer realm="metrics"'))
        return status_code, body, headers
    return None


def metrics_exposition(*extra_registries: CollectorRegistry) -> bytes:
    """This process's metrics (or every process's, in multiprocess mode) and `extra_registries`', in the
    Prometheus text format."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return b"".join(generate_latest(each) for each in (registry, *extra_registries))


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        """A scrape every few seconds is not worth a log line."""


def _metrics_app(environ, start_response):
    """The worker's metrics endpoint, refused as /metrics is."""
    refusal = metrics_refusal(authorization=environ.get("HTTP_AUTHORIZATION", ""))
    if refusal is not None:
        status_code, body, headers = refusal
        start_response(f"{status_code} {HTTPStatus(status_code).phrase}", headers)
        return [json.dumps(body).encode()]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [metrics_exposition()]


def metrics_server_start(*, address: str, port: int) -> WSGIServer:
    """Serve this process's metrics (every process's, in multiprocess mode) over HTTP from a daemon thread."""
    server = make_server(address, port, _metrics_app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    return server
