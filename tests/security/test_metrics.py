"""/metrics is closed unless a scrape brings METRICS_TOKEN; refusals are problem details."""
import pytest

from conftest import host_client
from salesassist.hosts import DEFAULT

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789"


def test_metrics_are_closed_without_a_token_when_debug_is_off(settings):
    settings.DEBUG, settings.METRICS_TOKEN = False, ""
    response = host_client(DEFAULT).get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:salesassist:problem:metrics_closed"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_need_the_token_as_a_bearer_token(settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = host_client(DEFAULT).get("/metrics", **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["type"] == "urn:salesassist:problem:metrics_token_invalid"
    assert b"salesassist_" not in response.content


def test_metrics_answer_with_the_token_and_are_not_redirected_to_https(settings):
    # Prometheus scrapes the pod over plain HTTP, as the probes do: no redirect to HTTPS.
    settings.METRICS_TOKEN, settings.SECURE_SSL_REDIRECT = TOKEN, True
    response = host_client(DEFAULT, token=TOKEN).get("/metrics")
    assert response.status_code == 200
    assert b"salesassist_deliveries" in response.content
