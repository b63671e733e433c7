"""One error shape (RFC 9457 problem details) for every 4xx/5xx on the three API hosts."""
import json

import pytest
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.test import RequestFactory
from rest_framework.exceptions import ValidationError

from salesassist.core.errors import problem_exception_handler, server_error
from salesassist.core.exceptions import Conflict

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"

# One writable collection per host, with a valid body and a string field with a length limit.
WRITE_ENDPOINTS = [
    pytest.param("crm_api", "/v1/leads/", {"email": "a@example.com"}, "first_name", 150, id="crm-leads"),
    pytest.param("products_api", "/v1/products/", {"name": "P", "price": "1.00"}, "name", 200, id="products"),
    pytest.param(
        "action_engine_api", "/v1/forms/", {"name": "F", "schema": {"type": "object"}}, "name", 200, id="ae-forms"
    ),
]
DETAIL_PATHS = [
    pytest.param("crm_api", "/v1/leads/", id="crm-leads"),
    pytest.param("products_api", "/v1/content/", id="products-content"),
    pytest.param("action_engine_api", "/v1/company-actions/", id="ae-company-actions"),
]


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["type"].startswith("urn:salesassist:problem:")
    assert body["title"] and body["detail"]
    if code:
        assert body["type"] == f"urn:salesassist:problem:{code}", body
    return body


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
def test_the_valid_body_is_accepted(request, client_name, path, valid, long_field, limit):
    client = request.getfixturevalue(client_name)
    assert client.post(path, valid, format="json").status_code == 201


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
def test_malformed_json_is_400(request, client_name, path, valid, long_field, limit):
    client = request.getfixturevalue(client_name)
    response = client.generic("POST", path, '{"name": "x",', content_type="application/json")
    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
@pytest.mark.parametrize("depth", [100, 600, 5000])
def test_too_deeply_nested_json_is_400(request, client_name, path, valid, long_field, limit, depth):
    # 5000 levels overflow the json module itself; 600 parse but overflow whatever walks them next.
    client = request.getfixturevalue(client_name)
    body = json.dumps(valid)[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    response = client.generic("POST", path, body, content_type="application/json")
    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(request, client_name, path, valid, long_field, limit, content_type):
    client = request.getfixturevalue(client_name)
    response = client.generic("POST", path, "name=x", content_type=content_type)
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
def test_unknown_field_is_400(request, client_name, path, valid, long_field, limit):
    client = request.getfixturevalue(client_name)
    response = client.post(path, {**valid, "colour": "red"}, format="json")
    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"colour": ["Unknown field."]}


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
def test_over_long_string_is_400(request, client_name, path, valid, long_field, limit):
    client = request.getfixturevalue(client_name)
    response = client.post(path, {**valid, long_field: "x" * (limit + 1)}, format="json")
    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [long_field]


@pytest.mark.parametrize(("client_name", "path", "valid", "long_field", "limit"), WRITE_ENDPOINTS)
def test_body_that_is_not_an_object_is_400(request, client_name, path, valid, long_field, limit):
    client = request.getfixturevalue(client_name)
    assert_problem(client.post(path, [1, 2], format="json"), 400)
    assert_problem(client.generic("POST", path, "null", content_type="application/json"), 400)


@pytest.mark.parametrize(("client_name", "path"), DETAIL_PATHS)
@pytest.mark.parametrize("bad", ["not-a-uuid", "12345", "3fa85f64-5717-4562-b3fc-2c963f66afaZ", "%00", "..%2F"])
def test_invalid_uuid_in_the_url_is_404(request, client_name, path, bad):
    client = request.getfixturevalue(client_name)
    for method in ("get", "patch", "delete"):
        assert_problem(getattr(client, method)(f"{path}{bad}"), 404)


@pytest.mark.parametrize(("client_name", "path"), DETAIL_PATHS)
def test_unknown_uuid_is_404(request, client_name, path):
    client = request.getfixturevalue(client_name)
    assert_problem(client.get(f"{path}3fa85f64-5717-4562-b3fc-2c963f66afa6"), 404, "not_found")


@pytest.mark.parametrize(
    ("client_name", "collection"),
    [("crm_api", "/v1/leads/"), ("products_api", "/v1/products/"), ("action_engine_api", "/v1/engagements/")],
)
def test_unknown_path_and_wrong_method(request, client_name, collection):
    client = request.getfixturevalue(client_name)
    assert_problem(client.get("/v1/nothing-here/"), 404)
    assert_problem(client.put(collection, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path_without", "path_with"), [("/v1/leads", "/v1/leads/"), ("/v1/companies/me", "/v1/companies/me/")]
)
def test_trailing_slash_is_optional(crm_api, path_without, path_with):
    for path in (path_without, path_with):
        assert crm_api.get(path).status_code == 200


def _handle(exc):
    return problem_exception_handler(exc, {"view": None, "request": None})


def test_integrity_error_reaching_the_api_is_a_409_not_a_500():
    response = _handle(IntegrityError('duplicate key value violates unique constraint "x"'))
    assert response.status_code == 409
    assert response.data["type"] == "urn:salesassist:problem:conflict"
    assert "duplicate key" not in response.data["detail"]  # database internals stay in the log


def test_protected_error_is_a_409():
    response = _handle(ProtectedError("protected", set()))
    assert response.status_code == 409 and response.data["type"].endswith("protected")


def test_domain_errors_and_nested_validation_errors_keep_their_fields():
    response = _handle(Conflict("In use.", code="in_use", errors={"name": ["x"]}))
    assert (response.status_code, response.data["type"], response.data["errors"]) == (
        409,
        "urn:salesassist:problem:in_use",
        {"name": ["x"]},
    )
    nested = _handle(ValidationError({"variants": [{}, {"price": ["Required."]}]}))
    assert nested.data["errors"] == {"variants.1.price": ["Required."]}


def test_unexpected_errors_are_left_to_the_500_handler_which_answers_problem_json():
    assert _handle(RuntimeError("boom")) is None
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and response["Content-Type"] == PROBLEM
    assert json.loads(response.content)["status"] == 500


@pytest.mark.parametrize(
    "urlconf", ["salesassist.urls.crm_api", "salesassist.urls.products_api", "salesassist.urls.action_engine_api"]
)
def test_every_documented_path_resolves_with_and_without_a_trailing_slash(urlconf):
    import re
    import uuid

    from django.urls import resolve
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)["paths"]
    assert paths
    for documented in paths:
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), documented).rstrip("/")
        with_slash, without_slash = resolve(f"{concrete}/", urlconf=urlconf), resolve(concrete, urlconf=urlconf)
        assert with_slash.func == without_slash.func, documented


@pytest.mark.parametrize(
    ("client_name", "path", "body", "field"),
    [
        ("crm_api", "/v1/leads/", {"email": "a@example.com", "custom_fields": {"a": "x\u0000"}}, "custom_fields"),
        ("crm_api", "/v1/leads/", {"email": "a@example.com", "first_name": "A\u0000"}, "first_name"),
        ("products_api", "/v1/products/", {"name": "P", "price": "1", "attributes": {"k\u0000": 1}}, "attributes"),
        ("action_engine_api", "/v1/forms/", {"name": "F", "schema": {"type": "object", "title": "\u0000"}}, "schema"),
    ],
)
def test_null_characters_are_a_field_error_not_a_database_error(request, client_name, path, body, field):
    response = request.getfixturevalue(client_name).post(path, body, format="json")
    assert field in assert_problem(response, 400)["errors"]


def test_data_error_reaching_the_api_is_a_400():
    from django.db import DataError

    response = _handle(DataError("integer out of range"))
    assert response.status_code == 400 and response.data["type"].endswith("invalid_value")
