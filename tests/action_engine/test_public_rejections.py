"""Every way the public endpoints say no: the status, the problem shape, and nothing written."""

import json
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from action_engine.choices import ModuleKind
from action_engine.models import Engagement, Message
from action_engine.services import action_link_sign
from crm.models import Visitor
from tests.action_engine.factories import ActionCompanyFactory
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    commerce_action,
    content_action,
    engagement_body,
    forms_action,
    lead,
    page_query,
    public_api,
)
from tests.crm.factories import LeadFactory, VisitorFactory
from tests.products.factories import ContentFactory, ProductFactory
from tests.workflows.sink import Reply, Sink

pytestmark = pytest.mark.django_db


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:salesassist:problem:")
    assert body["title"] and body["detail"]
    if code:
        assert body["type"] == f"urn:salesassist:problem:{code}"
    return body


@contextmanager
def unchanged():
    """Asserts that no engagement, message or visitor is added inside the block."""
    before = (Engagement.objects.count(), Message.objects.count(), Visitor.objects.count())
    yield
    assert (Engagement.objects.count(), Message.objects.count(), Visitor.objects.count()) == before


@pytest.fixture
def nothing_written():
    """Asserts, after the test, that no engagement, message or visitor was added by it."""
    with unchanged():
        yield


def post(public_api, body, **headers):
    return public_api.post(ENGAGEMENTS_URL, body, format="json", **headers)


# --- page data ------------------------------------------------------------------------------------


def test_page_data_for_unknown_inactive_unpublished_or_foreign_is_the_same_404(
    public_api, forms_action, lead, other_company
):
    url = f"/v1/public/actions/{forms_action.uuid}"
    unknown = public_api.get(f"/v1/public/actions/{uuid.uuid4()}", page_query(forms_action, lead))
    foreign_lead = public_api.get(url, page_query(forms_action, LeadFactory(company=other_company)))
    forms_action.is_published = False
    forms_action.save()
    unpublished = public_api.get(url, page_query(forms_action, lead))
    forms_action.is_published, forms_action.is_active = True, False
    forms_action.save()
    inactive = public_api.get(url, page_query(forms_action, lead))
    bodies = [assert_problem(response, 404, "not_found") for response in (unknown, foreign_lead, unpublished, inactive)]
    assert len({body["detail"] for body in bodies}) == 1


def test_page_data_needs_a_lead_uuid(public_api, forms_action):
    body = assert_problem(public_api.get(f"/v1/public/actions/{forms_action.uuid}", {"lead": "42"}), 400)
    assert "lead" in body["errors"]


def test_page_data_of_a_deleted_action_is_404(public_api, forms_action, lead):
    forms_action.delete()
    assert_problem(public_api.get(f"/v1/public/actions/{forms_action.uuid}", page_query(forms_action, lead)), 404)


@pytest.mark.parametrize("case", ["missing", "garbage", "expired", "other_lead", "other_visitor"])
def test_page_data_token_rules(public_api, company, forms_action, lead, case):
    visitor = VisitorFactory(company=company, lead=lead)
    expires = timezone.now() + timedelta(days=1)
    token = {
        "missing": "",
        "garbage": "not-a-token",
        "expired": action_link_sign(
            action_company=forms_action, lead=lead, visitor=visitor, expires_at=timezone.now() - timedelta(seconds=1)
        ),
        "other_lead": action_link_sign(
            action_company=forms_action, lead=LeadFactory(company=company), visitor=visitor, expires_at=expires
        ),
        "other_visitor": action_link_sign(
            action_company=forms_action, lead=lead, visitor=VisitorFactory(company=company), expires_at=expires
        ),
    }[case]
    response = public_api.get(
        f"/v1/public/actions/{forms_action.uuid}",
        {"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": token},
    )
    assert_problem(response, 403)
    valid = action_link_sign(action_company=forms_action, lead=lead, visitor=visitor, expires_at=expires)
    ok = public_api.get(
        f"/v1/public/actions/{forms_action.uuid}",
        {"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": valid},
    )
    assert ok.status_code == 200


def test_a_token_for_another_action_is_refused_even_when_not_required(public_api, company, forms_action, lead):
    company.settings = {"require_link_token": False}
    company.save()
    other = ActionCompanyFactory(company=company, action=forms_action.action)
    visitor = VisitorFactory(company=company, lead=lead)
    token = action_link_sign(
        action_company=other, lead=lead, visitor=visitor, expires_at=timezone.now() + timedelta(days=1)
    )
    response = public_api.get(
        f"/v1/public/actions/{forms_action.uuid}",
        {"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": token},
    )
    assert_problem(response, 403, "token_invalid")


# --- engagements ----------------------------------------------------------------------------------


def test_unknown_action_or_foreign_lead_records_nothing(public_api, forms_action, lead, other_company, nothing_written):
    visitor = uuid.uuid4()
    unknown = post(public_api, engagement_body(forms_action, lead, visitor, "opened") | {"action": str(uuid.uuid4())})
    foreign = LeadFactory(company=other_company)
    foreign_lead = post(public_api, engagement_body(forms_action, foreign, visitor, "opened"))
    # The same answer for both: nothing tells which of the two was unknown.
    assert assert_problem(unknown, 404) == assert_problem(foreign_lead, 404)


def test_stage_outside_the_pipeline(public_api, forms_action, lead, nothing_written):
    body = assert_problem(post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "purchased")), 400)
    assert "stage" in body["errors"]
    body = assert_problem(post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "eaten")), 400)
    assert "stage" in body["errors"]


def test_form_data_failing_its_schema_reports_each_field(public_api, forms_action, lead, nothing_written):
    message = {"data": {"name": "x" * 101}}
    body = assert_problem(
        post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "submitted", message)), 400
    )
    assert body["errors"] == {"data.email": ["This field is required."], "data.name": ["At most 100 characters."]}
    message = {"data": {"email": "not an email"}}
    body = assert_problem(
        post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "submitted", message)), 400
    )
    assert body["errors"] == {"data.email": ["Enter a valid email address."]}


def test_form_result_without_data_object(public_api, forms_action, lead, nothing_written):
    body = assert_problem(
        post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "submitted", {"data": ["a"]})), 400
    )
    assert "data" in body["errors"]


def test_commerce_product_outside_the_modules(public_api, company, commerce_action, lead, nothing_written):
    stranger = ProductFactory(company=company)
    message = {"items": [{"product": str(stranger.uuid), "quantity": 1}]}
    body = assert_problem(
        post(public_api, engagement_body(commerce_action, lead, uuid.uuid4(), "purchased", message)), 400
    )
    assert body["errors"] == {"message.items.0.product": ["Not a product of this action."]}


@pytest.mark.parametrize(
    "item",
    [{"quantity": 0}, {"quantity": True}, {"quantity": "2"}, {"variant": "not-a-uuid"}, {"variant": str(uuid.uuid4())}],
)
def test_commerce_bad_quantities_and_variants(public_api, commerce_action, lead, item, nothing_written):
    product = commerce_action.modules.get().product
    message = {"items": [{"product": str(product.uuid), "quantity": 1} | item]}
    assert_problem(post(public_api, engagement_body(commerce_action, lead, uuid.uuid4(), "purchased", message)), 400)


def test_commerce_empty_cart(public_api, commerce_action, lead, nothing_written):
    assert_problem(post(public_api, engagement_body(commerce_action, lead, uuid.uuid4(), "purchased", {})), 400)


def test_content_outside_the_modules(public_api, company, content_action, lead, nothing_written):
    stranger = ContentFactory(company=company)
    message = {"content": str(stranger.uuid)}
    body = assert_problem(
        post(public_api, engagement_body(content_action, lead, uuid.uuid4(), "downloaded", message)), 400
    )
    assert "message.content" in body["errors"]


def test_unpublished_content_module_is_refused(public_api, content_action, lead, nothing_written):
    content = content_action.modules.get(kind=ModuleKind.CONTENT).content
    content.is_published = False
    content.save()
    message = {"content": str(content.uuid)}
    assert_problem(post(public_api, engagement_body(content_action, lead, uuid.uuid4(), "downloaded", message)), 400)


def test_visitor_of_another_lead_is_a_conflict(public_api, company, forms_action, lead):
    visitor = VisitorFactory(company=company, lead=LeadFactory(company=company))
    with unchanged():
        assert_problem(post(public_api, engagement_body(forms_action, lead, visitor.uuid, "opened")), 409)
    visitor.refresh_from_db()
    assert visitor.lead != lead


def test_malformed_json(public_api, nothing_written):
    response = public_api.post(ENGAGEMENTS_URL, data='{"action": ', content_type="application/json")
    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize("depth", [100, 3000])
def test_too_deeply_nested_json(public_api, forms_action, lead, depth, nothing_written):
    body = json.dumps(engagement_body(forms_action, lead, uuid.uuid4(), "submitted"))
    body = body.replace('"message": {}', '"message": ' + '{"a":' * depth + "1" + "}" * depth)
    response = public_api.post(ENGAGEMENTS_URL, data=body, content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_message_must_be_an_object(public_api, forms_action, lead, nothing_written):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "opened") | {"message": [1, 2]}
    assert "message" in assert_problem(post(public_api, body), 400)["errors"]


def test_oversize_body_is_413(public_api, forms_action, lead, settings, nothing_written):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = engagement_body(forms_action, lead, uuid.uuid4(), "opened", {"padding": "x" * 4096})
    assert_problem(post(public_api, body), 413, "payload_too_large")


def test_token_of_another_visitor_is_refused_on_post(public_api, company, forms_action, lead):
    visitor = VisitorFactory(company=company, lead=lead)
    token = action_link_sign(
        action_company=forms_action, lead=lead, visitor=visitor, expires_at=timezone.now() + timedelta(days=1)
    )
    body = engagement_body(forms_action, lead, uuid.uuid4(), "opened", token=token)
    with unchanged():
        assert_problem(post(public_api, body), 403, "token_invalid")


def test_required_token_missing_on_post(public_api, forms_action, lead, nothing_written):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "opened", token="")
    assert_problem(post(public_api, body), 403, "token_required")


@pytest.mark.parametrize(
    "schema",
    [{"type": "object", "properties": {"email": {"type": 5}}}, {"$ref": "#/missing"}, {"type": "object", "$ref": "#"}],
    ids=["bad-type", "unresolvable-ref", "ref-loop"],
)
def test_a_broken_form_schema_is_a_clean_400(public_api, forms_action, lead, schema, nothing_written):
    form = forms_action.modules.get().form
    form.schema = schema
    form.save()
    message = {"data": {"email": "ada@example.com"}}
    body = assert_problem(
        post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "submitted", message)), 400
    )
    assert "form" in body["errors"]


def test_a_form_schema_never_fetches_a_remote_ref(public_api, forms_action, lead, nothing_written):
    """A $ref to a URL is not followed: a lead's submission must not make the server fetch (SSRF)."""
    internal = Sink()
    internal.default = Reply(body=b'{"enum": ["SECRET-FROM-INTERNAL"]}', headers={"Content-Type": "application/json"})
    try:
        form = forms_action.modules.get().form
        form.schema = {"type": "object", "properties": {"email": {"$ref": internal.url("/latest/meta-data")}}}
        form.save()  # as a schema saved before remote refs were refused
        message = {"data": {"email": "ada@example.com"}}
        body = assert_problem(
            post(public_api, engagement_body(forms_action, lead, uuid.uuid4(), "submitted", message)), 400
        )
        assert "form" in body["errors"]
        assert "SECRET" not in json.dumps(body)
        assert internal.requests == []
    finally:
        internal.close()
