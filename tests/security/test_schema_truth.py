"""Schemas that tell the truth: each disagreement between an OpenAPI schema and the server that schemathesis
found (tests/schema/test_schemathesis.py), fixed, with both sides checked here.

Each test reads the host's own schema (/v1/schema/) and sends the request, so neither side can drift alone.
"""
import re
import uuid

import pytest
from django.test import Client
from django_hosts.resolvers import reverse_host

from salesassist.hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    public_api,
)
from tests.crm.factories import LeadFactory
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def openapi(host_name: str) -> dict:
    response = Client(HTTP_HOST=reverse_host(host_name)).get("/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def query_parameter(schema: dict, path: str, name: str) -> dict:
    parameters = schema["paths"][path]["get"]["parameters"]
    return next(parameter["schema"] for parameter in parameters if parameter["name"] == name)


def component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def assert_problem(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    if field is not None:
        assert field in response.json()["errors"], response.json()


def test_page_starts_at_1_in_the_schema_and_page_0_is_refused(crm_api, company):
    LeadFactory(company=company)
    assert query_parameter(openapi(CRM_API), "/v1/leads/", "page") == {"type": "integer", "minimum": 1}
    assert_problem(crm_api.get("/v1/leads/?page=0"), 400, "page")
    assert_problem(crm_api.get("/v1/leads/?page="), 400, "page")


def test_a_page_past_the_end_is_a_404_every_page_numbered_list_documents(crm_api, company):
    LeadFactory(company=company)
    assert_problem(crm_api.get("/v1/leads/?page=2"), 404)
    schema = openapi(CRM_API)
    for path, item in schema["paths"].items():
        operation = item.get("get", {})
        if any(parameter["name"] == "page" for parameter in operation.get("parameters", [])):
            assert "404" in operation["responses"], path


def test_page_size_is_1_to_200_in_the_schema_and_on_the_server(crm_api, company):
    LeadFactory(company=company)
    schema = query_parameter(openapi(CRM_API), "/v1/leads/", "page_size")
    assert schema == {"type": "integer", "minimum": 1, "maximum": 200}
    for page_size in ("0", "201", "abc", ""):
        assert_problem(crm_api.get(f"/v1/leads/?page_size={page_size}"), 400, "page_size")
    assert crm_api.get("/v1/leads/?page_size=200").status_code == 200


def test_an_empty_cursor_is_refused_as_the_schema_says(action_engine_api):
    schema = query_parameter(openapi(ACTION_ENGINE_API), "/v1/engagements/", "cursor")
    assert schema.get("minLength") == 1
    assert_problem(action_engine_api.get("/v1/engagements/?cursor="), 400, "cursor")


def test_a_strict_request_body_says_additional_properties_false(crm_api):
    schema = openapi(CRM_API)
    assert component(schema, "LeadRequest")["additionalProperties"] is False
    assert component(schema, "PatchedLeadRequest")["additionalProperties"] is False
    body = {"email": "a@example.com", "colour": "red"}
    assert_problem(crm_api.post("/v1/leads/", body, format="json"), 400, "colour")


def test_json_fields_are_objects_and_not_null_unless_nullable(crm_api):
    custom_fields = component(openapi(CRM_API), "LeadRequest")["properties"]["custom_fields"]
    assert custom_fields["type"] == "object" and not custom_fields.get("nullable")
    for value in (None, [], "x"):
        body = {"email": "a@example.com", "custom_fields": value}
        assert_problem(crm_api.post("/v1/leads/", body, format="json"), 400, "custom_fields")


def test_the_price_pattern_needs_a_digit_and_the_server_checks_the_same(products_api):
    pattern = component(openapi(PRODUCTS_API), "ProductRequest")["properties"]["price"]["pattern"]
    for refused in ("", "-", ".", "1.", "1e3", "+1", "12345678901"):
        assert not re.search(pattern, refused), refused
        body = {"name": "Mug", "price": refused}
        assert_problem(products_api.post("/v1/products/", body, format="json"), 400, "price")
    for accepted in ("0", "19.9", "19.90"):
        assert re.search(pattern, accepted)
    assert products_api.post("/v1/products/", {"name": "Mug", "price": "19.90"}, format="json").status_code == 201


def test_a_boolean_in_a_json_body_is_a_json_boolean(products_api):
    for not_a_boolean in (0, 1, "true"):
        body = {"title": "Guide", "kind": "article", "body": "Text", "is_published": not_a_boolean}
        assert_problem(products_api.post("/v1/content/", body, format="json"), 400, "is_published")
    body = {"title": "Guide", "kind": "article", "body": "Text", "is_published": True}
    assert products_api.post("/v1/content/", body, format="json").status_code == 201


def test_a_string_field_takes_a_json_string_only(crm_api):
    assert_problem(crm_api.post("/v1/leads/", {"email": "a@example.com", "first_name": 5}, format="json"), 400)


def test_an_empty_relation_is_refused_not_read_as_null(crm_api):
    assert_problem(crm_api.post("/v1/leads/", {"email": "a@example.com", "owner": ""}, format="json"), 400, "owner")


def test_max_length_counts_the_characters_sent(products_api):
    name = component(openapi(PRODUCTS_API), "ProductRequest")["properties"]["name"]
    too_long = "\v" + "x" * name["maxLength"]  # DRF would strip the \v and count one less
    assert_problem(products_api.post("/v1/products/", {"name": too_long, "price": "1"}, format="json"), 400, "name")


def test_a_filter_given_without_a_value_is_refused(action_engine_api):
    assert_problem(action_engine_api.get("/v1/deliveries/?workflow="), 400, "workflow")
    assert_problem(action_engine_api.get("/v1/engagements/?until="), 400, "until")


def test_a_boolean_filter_takes_true_or_false_once(products_api, company):
    ProductFactory(company=company)
    assert_problem(products_api.get("/v1/products/?is_published=null"), 400, "is_published")
    assert_problem(products_api.get("/v1/products/?is_published=true&is_published=false"), 400, "is_published")
    assert products_api.get("/v1/products/?is_published=true").status_code == 200


def test_a_time_filter_with_any_iso_offset_is_answered(crm_api):
    # +20:33 is a valid ISO 8601 offset that PostgreSQL refuses as such: it is compared in UTC.
    assert crm_api.get("/v1/leads/", {"created_after": "2020-07-31T03:26:33+20:33"}).status_code == 200


def test_an_invalid_engagement_with_a_honeypot_is_a_400_not_a_silent_202(public_api, forms_action, lead):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "submitted", {"data": {}}, honeypot=0)
    assert_problem(public_api.post(ENGAGEMENTS_URL, body, format="json"), 400, "honeypot")
    assert_problem(public_api.post(ENGAGEMENTS_URL, {"honeypot": "http://spam"}, format="json"), 400)
