"""Each host serves its own URLconf; the default host serves admin, /healthz and the landing page."""
import pytest
from django_hosts.resolvers import reverse_host

from salesassist.hosts import ACTION_ENGINE_API, CRM_API, DEFAULT, PRODUCTS_API

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("host_name", "title"),
    [
        (CRM_API, "SalesAssist CRM API"),
        (PRODUCTS_API, "SalesAssist Products API"),
        (ACTION_ENGINE_API, "SalesAssist Action Engine API"),
    ],
)
def test_each_api_host_serves_its_own_schema(client, host_name, title):
    response = client.get("/v1/schema/", HTTP_HOST=reverse_host(host_name), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == title


@pytest.mark.parametrize("host_name", [CRM_API, PRODUCTS_API, ACTION_ENGINE_API])
def test_api_hosts_do_not_serve_admin_and_answer_problem_json(client, host_name):
    response = client.get("/admin/", HTTP_HOST=reverse_host(host_name))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_api_host_with_port_is_routed(client):
    response = client.get("/v1/schema/", HTTP_HOST="api.crm.localhost:8123", HTTP_ACCEPT="application/json")
    assert response.json()["info"]["title"] == "SalesAssist CRM API"


def test_default_host_serves_admin_login(client):
    response = client.get("/admin/login/", HTTP_HOST=reverse_host(DEFAULT))
    assert response.status_code == 200
    assert b"SalesAssist" in response.content


def test_unknown_host_gets_the_default_host(client):
    response = client.get("/healthz", HTTP_HOST="unknown.localhost")
    assert response.status_code == 200
    assert response.json()["database"] == {"status": "ok"}


@pytest.mark.parametrize("debug", [True, False])
def test_default_host_does_not_serve_the_apis_and_keeps_html_404s(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/v1/schema/", HTTP_HOST=reverse_host(DEFAULT))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_landing_page_links_the_three_docs_pages(client):
    response = client.get("/", HTTP_HOST=reverse_host(DEFAULT))
    assert response.status_code == 200
    body = response.content.decode()
    for subdomain in ("api.crm", "api.products", "api.action-engine"):
        assert f"//{subdomain}.localhost:8000/v1/docs/" in body


@pytest.mark.parametrize("host_name", [CRM_API, PRODUCTS_API, ACTION_ENGINE_API])
def test_docs_page_uses_local_assets(client, host_name):
    response = client.get("/v1/docs/", HTTP_HOST=reverse_host(host_name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn" not in body.lower()


def test_foreign_host_outside_allowed_hosts_is_refused(client):
    response = client.get("/healthz", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
