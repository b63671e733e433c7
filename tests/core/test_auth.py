"""API keys and staff sessions on the three API hosts: 401 with the problem shape, read-only keys, revocation."""
import pytest
from rest_framework.test import APIClient
from django_hosts.resolvers import reverse_host

from conftest import host_client
from crm.services import api_key_revoke
from salesassist.hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API
from tests.action_engine.factories import ActionCompanyFactory, FormFactory
from tests.crm.factories import LeadFactory, UserFactory
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST_PATHS = [
    pytest.param(CRM_API, "/v1/leads/", id="crm"),
    pytest.param(PRODUCTS_API, "/v1/products/", id="products"),
    pytest.param(ACTION_ENGINE_API, "/v1/company-actions/", id="action-engine"),
]


def assert_401(response):
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert body["status"] == 401 and body["type"].startswith("urn:salesassist:problem:")
    return body


@pytest.mark.parametrize(("host_name", "path"), LIST_PATHS)
def test_no_key_is_401_with_the_problem_shape(host_name, path):
    body = assert_401(host_client(host_name).get(path))
    assert body["type"] == "urn:salesassist:problem:not_authenticated"


@pytest.mark.parametrize(("host_name", "path"), LIST_PATHS)
@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer nonsense", "Bearer sa_deadbeef_nottherightsecret", "Bearer sa__", "Bearer  é"],
)
def test_unknown_or_malformed_key_is_401(api_key, host_name, path, header):
    client = APIClient(HTTP_HOST=reverse_host(host_name))
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_401(client.get(path))


@pytest.mark.parametrize(("host_name", "path"), LIST_PATHS)
def test_revoked_key_is_401(api_key, host_name, path):
    client = host_client(host_name, api_key.token)
    assert client.get(path).status_code == 200
    api_key_revoke(api_key=api_key)
    body = assert_401(client.get(path))
    assert body["type"] == "urn:salesassist:problem:authentication_failed"


def test_a_key_records_when_it_was_used(api_key, crm_api):
    assert api_key.last_used_at is None
    crm_api.get("/v1/leads")
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_other_schemes_are_not_accepted(api_key):
    client = APIClient(HTTP_HOST=reverse_host(CRM_API))
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key.token}")
    assert_401(client.get("/v1/leads"))


def _writes(company):
    lead = LeadFactory(company=company)
    product = ProductFactory(company=company)
    form = FormFactory(company=company)
    action_company = ActionCompanyFactory(company=company)
    return [
        (CRM_API, "post", "/v1/leads", {"email": "new@example.com"}),
        (CRM_API, "patch", f"/v1/leads/{lead.uuid}", {"first_name": "X"}),
        (CRM_API, "delete", f"/v1/leads/{lead.uuid}", None),
        (PRODUCTS_API, "post", "/v1/products", {"name": "P", "price": "1"}),
        (PRODUCTS_API, "put", f"/v1/products/{product.uuid}", {"name": "P", "price": "1"}),
        (PRODUCTS_API, "delete", f"/v1/products/{product.uuid}", None),
        (ACTION_ENGINE_API, "post", "/v1/forms", {"name": "F", "schema": {"type": "object"}}),
        (ACTION_ENGINE_API, "patch", f"/v1/forms/{form.uuid}", {"name": "G"}),
        (ACTION_ENGINE_API, "delete", f"/v1/forms/{form.uuid}", None),
        (
            ACTION_ENGINE_API,
            "post",
            f"/v1/company-actions/{action_company.uuid}/modules/",
            {"kind": "form", "target": str(form.uuid)},
        ),
        (ACTION_ENGINE_API, "post", f"/v1/company-actions/{action_company.uuid}/receivers/", {}),
    ]


def test_read_only_key_reads_but_cannot_write(company, read_only_key):
    for host_name, method, path, body in _writes(company):
        client = host_client(host_name, read_only_key.token)
        assert client.get(path.rsplit("/", 1)[0] if method != "post" else path).status_code == 200
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "This API key is read-only."
    assert LeadFactory._meta.model.objects.filter(company=company, deleted_at__isnull=True).count() == 1


def test_staff_session_works_including_the_browsable_api(company, staff_user):
    client = APIClient(HTTP_HOST=reverse_host(CRM_API))
    client.force_login(staff_user)
    LeadFactory(company=company, first_name="Visible")
    assert client.get("/v1/leads").json()["results"][0]["first_name"] == "Visible"
    page = client.get("/v1/leads/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"Visible" in page.content
    assert client.post("/v1/leads", {"email": "by-staff@example.com"}, format="json").status_code == 201


def test_signed_in_user_without_a_company_is_403(db):
    client = APIClient(HTTP_HOST=reverse_host(CRM_API))
    client.force_login(UserFactory(username="loner"))
    response = client.get("/v1/leads")
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"


def test_an_inactive_company_is_refused(company, api_key, crm_api):
    company.is_active = False
    company.save()
    assert crm_api.get("/v1/leads").status_code == 403


def test_the_browsable_api_renders_every_list_for_staff(company, staff_user):
    from tests.action_engine.factories import ActionFactory

    own_action = ActionFactory(company=company)
    action_company = ActionCompanyFactory(company=company, action=own_action)
    lead = LeadFactory(company=company)
    pages = {
        CRM_API: ["/v1/leads/", f"/v1/leads/{lead.uuid}/", f"/v1/leads/{lead.uuid}/feed/", "/v1/visitors/",
                  "/v1/lead-receivers/", "/v1/companies/me/"],
        PRODUCTS_API: ["/v1/products/", "/v1/content/"],
        ACTION_ENGINE_API: [
            "/v1/actions/",
            f"/v1/actions/{own_action.uuid}/workflows/",
            "/v1/action-types/",
            "/v1/action-systems/",
            "/v1/action-data-types/",
            "/v1/company-actions/",
            f"/v1/company-actions/{action_company.uuid}/",
            f"/v1/company-actions/{action_company.uuid}/receivers/",
            f"/v1/company-actions/{action_company.uuid}/workflows/",
            f"/v1/company-actions/{action_company.uuid}/modules/",
            "/v1/forms/",
            "/v1/engagements/",
        ],
    }
    for host_name, paths in pages.items():
        client = APIClient(HTTP_HOST=reverse_host(host_name))
        client.force_login(staff_user)
        for path in paths:
            response = client.get(path, HTTP_ACCEPT="text/html")
            assert response.status_code == 200, (path, response.content[:300])
            assert response["Content-Type"].startswith("text/html")
