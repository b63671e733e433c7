"""Idempotency per the IETF Idempotency-Key draft: a key answers only the request it was first used for, an
identical keyless request moments later is the same request, and the reference page sends a key per submission."""

import uuid
from datetime import timedelta
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
from django.db import connection

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import Engagement, Message
from action_engine.services import action_company_share, lead_action_states_rebuild
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    ActionTypeFactory,
    FormFactory,
    ModuleFactory,
)
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    post_at_once,
    public_api,
)
from tests.crm.factories import CompanyFactory, LeadFactory
from tests.e2e.browser import needs_chromium
from tests.e2e.conftest import browser, orm_beside_playwright  # noqa: F401  (fixtures)
from tests.e2e.test_action_page import link_on_live_server, phone_page  # noqa: F401  (fixtures)
from tests.workflows.factories import ActionCompanyWorkflowFactory
from workflows.models import Delivery

FIRST = {"data": {"email": "ada@example.com"}}
CHANGED = {"data": {"email": "grace@example.com"}}


@pytest.fixture
def fanned_out(forms_action):
    """A workflow on the action, so that every engagement recorded writes one delivery."""
    ActionCompanyWorkflowFactory(action_company=forms_action)
    return forms_action


@pytest.mark.django_db
def test_a_key_sent_again_with_a_changed_message_is_refused_and_records_nothing(public_api, fanned_out, lead):
    visitor = uuid.uuid4()
    first = engagement_body(fanned_out, lead, visitor, "submitted", FIRST)
    assert public_api.post(ENGAGEMENTS_URL, first, format="json", HTTP_IDEMPOTENCY_KEY="submit-1").status_code == 201
    changed_body = engagement_body(fanned_out, lead, visitor, "submitted", CHANGED)
    changed = public_api.post(ENGAGEMENTS_URL, changed_body, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    assert changed.status_code == 422
    assert changed["Content-Type"] == "application/problem+json"
    assert changed.json()["type"] == "urn:salesassist:problem:idempotency_key_mismatch"
    assert "Idempotent-Replayed" not in changed
    assert Engagement.objects.count() == 1 and Message.objects.count() == 1 and Delivery.objects.count() == 1
    assert Message.objects.get().body["data"] == FIRST["data"]


@pytest.mark.django_db
def test_an_identical_keyless_double_post_records_and_fans_out_once(public_api, fanned_out, lead):
    body = engagement_body(fanned_out, lead, uuid.uuid4(), "submitted", FIRST)
    first = public_api.post(ENGAGEMENTS_URL, body, format="json")
    again = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Engagement.objects.count() == 1 and Message.objects.count() == 1 and Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_keyless_posts_record_once(fanned_out, lead):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    body = engagement_body(fanned_out, lead, uuid.uuid4(), "submitted", FIRST)
    responses = post_at_once(body)
    assert sorted(response.status_code for response in responses) == [201, 201]
    assert sorted(response.get("Idempotent-Replayed", "") for response in responses) == ["", "true"]
    assert responses[0].json() == responses[1].json()
    assert Engagement.objects.count() == 1 and Message.objects.count() == 1 and Delivery.objects.count() == 1


@pytest.mark.django_db
def test_an_identical_keyless_post_outside_the_window_records_again(public_api, fanned_out, lead, settings):
    settings.ENGAGEMENT_DEDUPE_SECONDS = 10
    body = engagement_body(fanned_out, lead, uuid.uuid4(), "submitted", FIRST)
    assert public_api.post(ENGAGEMENTS_URL, body, format="json").status_code == 201
    assert public_api.post(ENGAGEMENTS_URL, body, format="json")["Idempotent-Replayed"] == "true"
    assert Engagement.objects.count() == 1
    # The first one recorded 11 seconds ago: a lead's real second submission, not a double click.
    Engagement.objects.update(created_at=Engagement.objects.get().created_at - timedelta(seconds=11))
    lead_action_states_rebuild()  # the lead's state on the action is derived from that history
    later = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Engagement.objects.count() == 2 and Delivery.objects.count() == 2


@pytest.mark.e2e
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_the_action_page_sends_one_key_per_submission(live_server, phone_page):
    company = CompanyFactory()
    action = ActionFactory(system=ActionSystemFactory(slug=SystemSlug.FORMS), type=ActionTypeFactory(slug="form"))
    action_company = ActionCompanyFactory(company=company, action=action, name="Book your demo")
    schema = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}}}
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM, form=FormFactory(company=company, schema=schema))
    lead = LeadFactory(company=company)
    shared = action_company_share(action_company=action_company, lead=lead)
    page = phone_page
    keys = []
    lost = []

    def answer_lost(route):
        # The first two submissions reach the server, but their answers never reach the page.
        request = route.request
        if request.method != "POST" or '"stage":"submitted"' not in (request.post_data or "").replace(" ", ""):
            return route.continue_()
        keys.append(request.header_value("idempotency-key"))
        if len(lost) < 2:
            # Sent to the live server on 127.0.0.1 (Playwright's own fetch cannot resolve *.localhost).
            url = urlsplit(request.url)
            server = HTTPConnection("127.0.0.1", url.port, timeout=10)
            server.request("POST", url.path, body=request.post_data, headers={**request.headers, "Host": url.netloc})
            assert server.getresponse().status == 201
            server.close()
            lost.append(request)
            return route.abort("connectionreset")
        return route.continue_()

    page.route("**/v1/public/engagements", answer_lost)
    page.goto(link_on_live_server(shared.url, live_server))
    page.wait_for_selector("#action-form", timeout=10_000)

    page.fill("#field-email", "ada@example.com")
    # One click: the SDK retries the submission itself, with the same key, until an answer arrives.
    page.click("button[type=submit]:not([disabled])")
    page.wait_for_selector("#confirmation:not([hidden])", timeout=30_000)

    assert len(lost) == 2
    assert len(keys) == 3 and all(keys), keys
    assert keys[0] == keys[1] == keys[2]
    submitted = Engagement.objects.filter(lead=lead, stage=Stage.SUBMITTED).order_by("id")
    assert [row.message.body["data"]["email"] for row in submitted] == ["ada@example.com"]
    assert [row.idempotency_key for row in submitted] == [f"public:{keys[0]}"]
