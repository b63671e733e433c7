"""Every 404 and 405 on the API hosts is problem details, with DEBUG on or off: a path no route matches (Django
answers its own HTML page there with DEBUG on, without calling handler404), a path of another host, a method a
route does not have. (The default host keeps its HTML pages: tests/core/test_hosts.py.)"""

import pytest
from django.test import Client
from django_hosts.resolvers import reverse_host

from conftest import host_client
from salesassist.core.errors import PROBLEM_CONTENT_TYPE
from salesassist.core.exceptions import CoreError
from salesassist.hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API

UNMATCHED = {
    CRM_API: ["/v1/leads/not-a-uuid/", "/v1/products/", "/admin/", "/"],
    PRODUCTS_API: ["/v1/products/not-a-uuid", "/v1/leads/", "/a/00000000-0000-4000-8000-000000000000/", "/v2/"],
    ACTION_ENGINE_API: ["/v1/public/engagements/extra", "/v1/leads/", "/healthz", "/v1/docs/extra"],
}
# A route and a method it does not have.
WRONG_METHOD = {
    CRM_API: ("delete", "/v1/leads"),
    PRODUCTS_API: ("put", "/v1/products/"),
    ACTION_ENGINE_API: ("get", "/v1/public/engagements"),
}


def assert_problem(response, status: int, code: str):
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    if response.content:  # a HEAD answer has no body
        body = response.json()
        assert body["type"] == f"urn:salesassist:problem:{code}"
        assert body["status"] == status


@pytest.mark.django_db
@pytest.mark.parametrize("host_name", UNMATCHED)
def test_every_404_and_405_of_an_api_host_is_problem_details(settings, api_key, host_name):
    # A caller without key or CSRF token, as a browser or a mistyped script would be: a wrong path is a 404
    # for it too, never a 401 or a CSRF refusal.
    anonymous = Client(HTTP_HOST=reverse_host(host_name), enforce_csrf_checks=True)
    client = host_client(host_name, api_key.token)
    for debug in (True, False):
        settings.DEBUG = debug
        for path in UNMATCHED[host_name]:
            for method in ("get", "head", "options", "post", "put", "patch", "delete"):
                assert_problem(getattr(anonymous, method)(path), 404, CoreError.NOT_FOUND)
        method, path = WRONG_METHOD[host_name]
        assert_problem(getattr(client, method)(path), 405, "method_not_allowed")
        # HEAD and OPTIONS of an existing route are answered, not refused.
        assert client.options(path).status_code == 200
        assert client.head("/v1/schema/").status_code == 200
