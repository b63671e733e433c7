"""GET /metrics on the default host: who may read it, and that what happens shows up in it."""
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone
from django_hosts.resolvers import reverse_host
from prometheus_client.parser import text_string_to_metric_families

from conftest import host_client
from salesassist.hosts import ACTION_ENGINE_API, DEFAULT
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    public_api,
)
from tests.action_engine.test_receivers import post_call, receiver, third_party_body  # noqa: F401
from tests.workflows.conftest import attach_webhook, record_engagement, sink  # noqa: F401
from workflows.choices import DeliveryStatus
from workflows.models import Delivery
from workflows.services import deliveries_attempt

TOKEN = "scrape-token-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape() -> dict[tuple, float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = host_client(DEFAULT, token=TOKEN).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_posted_engagement_is_counted_by_system_and_stage(
    public_api, forms_action, lead, django_capture_on_commit_callbacks
):
    before = sample(scrape(), "salesassist_engagements_recorded_total", system="forms", stage="opened")
    with django_capture_on_commit_callbacks(execute=True):
        body = engagement_body(forms_action, lead, uuid.uuid4(), "opened")
        response = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert response.status_code == 201, response.content
    after = scrape()
    assert sample(after, "salesassist_engagements_recorded_total", system="forms", stage="opened") == before + 1


def test_an_engagement_that_does_not_commit_is_not_counted(forms_action, lead, django_capture_on_commit_callbacks):
    from django.db import transaction

    from action_engine.services import engagement_record

    before = sample(scrape(), "salesassist_engagements_recorded_total", system="forms", stage="opened")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            engagement_record(action_company=forms_action, lead=lead, stage="opened")
            transaction.set_rollback(True)
    assert callbacks == []
    assert sample(scrape(), "salesassist_engagements_recorded_total", system="forms", stage="opened") == before


def test_requests_are_timed_per_host_method_and_status_class(public_api):
    before = sample(
        scrape(), "salesassist_http_request_duration_seconds_count", host=ACTION_ENGINE_API, method="GET", status="4xx"
    )
    assert public_api.get("/v1/no-such-path").status_code == 404
    after = scrape()
    labels = {"host": ACTION_ENGINE_API, "method": "GET", "status": "4xx"}
    assert sample(after, "salesassist_http_request_duration_seconds_count", **labels) == before + 1
    # The scrapes themselves are timed on the default host.
    assert sample(after, "salesassist_http_request_duration_seconds_count", host=DEFAULT, method="GET", status="2xx")
    assert not any("path" in dict(labels) for _name, labels in after)


def test_deliveries_by_status_and_the_oldest_due_age_come_from_the_database(company, forms_action):
    attach_webhook(forms_action, "https://hooks.example.com/a")
    record_engagement(forms_action)
    record_engagement(forms_action)
    first, second = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    Delivery.objects.filter(pk=second.pk).update(status=DeliveryStatus.DEAD)

    samples = scrape()
    assert sample(samples, "salesassist_deliveries", status="pending") == 1
    assert sample(samples, "salesassist_deliveries", status="dead") == 1
    assert ("salesassist_deliveries", (("status", "succeeded"),)) in samples  # 0, but present
    assert 600 <= sample(samples, "salesassist_delivery_oldest_due_age_seconds") < 660

    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=10))
    assert sample(scrape(), "salesassist_delivery_oldest_due_age_seconds") == 0


def test_attempts_are_counted_by_outcome_with_their_duration(company, forms_action, sink, settings):  # noqa: F811
    from tests.workflows.sink import Reply

    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = True
    attach_webhook(forms_action, sink.url())
    record_engagement(forms_action)
    record_engagement(forms_action)
    sink.script(Reply(200), Reply(500))
    before = scrape()
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    after = scrape()
    for outcome in ("succeeded", "http_error"):
        count = "salesassist_delivery_attempts_total"
        assert sample(after, count, outcome=outcome) == sample(before, count, outcome=outcome) + 1
        duration = "salesassist_delivery_attempt_duration_seconds_count"
        assert sample(after, duration, outcome=outcome) == sample(before, duration, outcome=outcome) + 1


def test_receiver_calls_are_counted_by_outcome(
    public_api, receiver, lead, django_capture_on_commit_callbacks  # noqa: F811
):
    name = "salesassist_inbound_calls_total"
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_call(public_api, receiver, third_party_body(lead)).status_code == 201
        assert post_call(public_api, receiver, third_party_body(lead, event="unknown")).status_code == 400
        receiver.secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
        receiver.save()
        assert post_call(public_api, receiver, third_party_body(lead)).status_code == 401
    after = scrape()
    for outcome in ("processed", "failed", "rejected"):
        labels = {"receiver": "receivercall", "outcome": outcome}
        assert sample(after, name, **labels) == sample(before, name, **labels) + 1, outcome


def test_metrics_are_open_in_development_without_a_token(settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, ""
    assert host_client(DEFAULT).get("/metrics").status_code == 200


def test_metrics_are_only_on_the_default_host():
    assert host_client(ACTION_ENGINE_API, token=TOKEN).get("/metrics").status_code == 404


def test_a_scrape_by_the_pods_address_is_answered_by_the_default_host(client):
    # Prometheus sends the pod's address as Host, which is no allowed host: Django would answer 400.
    headers = {"HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert b"salesassist_deliveries" in response.content
    assert client.get("/metrics", HTTP_HOST="127.0.0.1:8000").status_code == 401
    # Only /metrics: another path on that Host is still refused as Django refuses an unknown host.
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="gunicorn's workers in other processes need a shared database: PostgreSQL",
)
def test_gunicorn_workers_add_up_in_multiprocess_mode(tmp_path):
    """deploy/gunicorn.conf.py with two workers: the directory is emptied at start (a value left from an
    earlier run is gone), each worker writes its own files, and a scrape counts every worker's requests."""
    from tests.security.test_throttles import Gunicorn, _free_port

    directory = tmp_path / "prometheus"
    directory.mkdir()
    stale = "from prometheus_client import Counter; Counter('salesassist_stale', 'left over').inc()"
    subprocess.run([sys.executable, "-c", stale], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert list(directory.iterdir())

    server = Gunicorn(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(directory), METRICS_TOKEN=TOKEN, CONN_MAX_AGE="0")
    server.port = _free_port()
    server.env.update(GUNICORN_BIND=f"127.0.0.1:{server.port}", GUNICORN_WORKERS="2")
    server.process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "salesassist.wsgi", "--config", "deploy/gunicorn.conf.py"],
        cwd=Path(settings.BASE_DIR), env=server.env, stdout=server.log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{server.port}"
        headers = {"Host": reverse_host(DEFAULT)}
        deadline = time.monotonic() + 60
        while server.log.read_text().count("Booting worker") < 2:
            assert time.monotonic() < deadline and server.process.poll() is None, server.log.read_text()
            time.sleep(0.2)
        for _ in range(20):
            # A new connection each time, so that both workers take some.
            assert httpx.get(f"{base}/no-such-page", headers=headers, timeout=30).status_code == 404
        response = httpx.get(f"{base}/metrics", headers={**headers, "Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert response.status_code == 200
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
        labels = {"host": DEFAULT, "method": "GET", "status": "4xx"}
        assert sample(samples, "salesassist_http_request_duration_seconds_count", **labels) == 20
        assert not any(name.startswith("salesassist_stale") for name, _labels in samples)
        assert list(directory.glob("histogram_*.db"))  # one file per worker process: multiprocess mode is on
    finally:
        server.stop()


def test_a_one_off_command_counts_into_a_directory_it_makes(tmp_path):
    """A process started with PROMETHEUS_MULTIPROC_DIR but without a server that prepared it (a replay run in
    a fresh pod) counts instead of failing at its first value."""
    directory = tmp_path / "missing" / "prometheus"
    code = (
        "from salesassist.core.metrics import delivery_attempt_observed as observe;"
        "observe(succeeded=True, answered=True, seconds=0.1)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(settings.BASE_DIR), env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert list(directory.glob("counter_*.db"))
