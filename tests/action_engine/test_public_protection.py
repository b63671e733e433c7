"""Protection of the public endpoints: rate limits, CORS per company, the honeypot, body limits."""

import uuid

import pytest

from action_engine.models import Engagement, Message
from crm.models import Visitor
from tests.action_engine.factories import ActionCompanyFactory
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    page_query,
    public_api,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES}
    return settings.PUBLIC_THROTTLE_RATES


def test_per_ip_limit(public_api, forms_action, lead, rates):
    rates["public_ip"] = "3/min"
    url = f"/v1/public/actions/{forms_action.uuid}"
    statuses = [public_api.get(url, page_query(forms_action, lead)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = public_api.get(url, page_query(forms_action, lead))
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("throttled")
    # Another address is not limited by the first one's count.
    assert public_api.get(url, page_query(forms_action, lead), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_per_action_limit_counts_every_address(public_api, forms_action, lead, company, rates):
    rates["public_action"] = "2/min"
    # A visitor each: identical keyless posts would be answered as one (test_idempotency.py).
    statuses = [
        public_api.post(
            ENGAGEMENTS_URL,
            engagement_body(forms_action, lead, uuid.uuid4(), "opened"),
            format="json",
            REMOTE_ADDR=f"10.0.0.{n}",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert Engagement.objects.count() == 2
    other = ActionCompanyFactory(company=company, action=forms_action.action)
    other_body = engagement_body(other, lead, uuid.uuid4(), "opened")
    assert public_api.post(ENGAGEMENTS_URL, other_body, format="json").status_code == 201


def test_per_ip_limit_ignores_a_forged_forwarded_for(public_api, forms_action, lead, rates):
    rates["public_ip"] = "2/min"
    url = f"/v1/public/actions/{forms_action.uuid}"
    statuses = [
        public_api.get(url, page_query(forms_action, lead), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_behind_a_proxy_the_forwarded_client_is_counted_and_stored(public_api, forms_action, lead, rates, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    rates["public_ip"] = "1/min"
    url = f"/v1/public/actions/{forms_action.uuid}"

    def get(client_address):
        # The proxy appends the address it saw to whatever the client sent.
        forwarded = f"{uuid.uuid4().hex[:8]}, {client_address}"
        return public_api.get(url, page_query(forms_action, lead), HTTP_X_FORWARDED_FOR=forwarded)

    assert [get("203.0.113.1").status_code, get("203.0.113.1").status_code] == [200, 429]
    assert get("203.0.113.2").status_code == 200
    receiver = forms_action.receivers.get()
    public_api.post(f"/v1/receivers/{receiver.uuid}", {}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert receiver.calls.get().source_ip == "203.0.113.7"


def test_per_action_limit_counts_both_cases_of_the_uuid_as_one_action(public_api, forms_action, lead, rates):
    rates["public_action"] = "2/min"
    spellings = [str(forms_action.uuid).upper(), str(forms_action.uuid), str(forms_action.uuid).upper()]
    statuses = [
        public_api.post(
            ENGAGEMENTS_URL, engagement_body(forms_action, lead, uuid.uuid4(), "opened", action=spelling), format="json"
        ).status_code
        for spelling in spellings
    ]
    assert statuses == [201, 201, 429]


def test_receivers_have_their_own_limit(public_api, forms_action, rates):
    rates["receiver"] = "1/min"
    receiver = forms_action.receivers.get()
    assert public_api.post(f"/v1/receivers/{receiver.uuid}", {}, format="json").status_code == 400
    assert public_api.post(f"/v1/receivers/{receiver.uuid}", {}, format="json").status_code == 429


def test_a_filled_honeypot_is_accepted_and_nothing_is_recorded(public_api, forms_action, lead):
    body = engagement_body(
        forms_action, lead, uuid.uuid4(), "submitted", {"data": {"email": "bot@example.com"}}, honeypot="http://spam"
    )
    response = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert response.status_code == 202
    assert (Engagement.objects.count(), Message.objects.count(), Visitor.objects.count()) == (0, 0, 0)


def test_an_empty_honeypot_is_a_real_result(public_api, forms_action, lead):
    body = engagement_body(
        forms_action, lead, uuid.uuid4(), "submitted", {"data": {"email": "ada@example.com"}}, honeypot=""
    )
    assert public_api.post(ENGAGEMENTS_URL, body, format="json").status_code == 201


def test_an_oversize_receiver_call_is_413(public_api, forms_action, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    receiver = forms_action.receivers.get()
    response = public_api.post(f"/v1/receivers/{receiver.uuid}", {"x": "y" * 2048}, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


class TestCors:
    ORIGIN = "https://pages.acme.example"

    def preflight(self, client, path, origin):
        return client.options(
            path,
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, idempotency-key",
        )

    def test_a_companys_origin_may_call_its_actions(self, public_api, company, forms_action, lead):
        company.settings = {"cors_origins": [self.ORIGIN]}
        company.save()
        response = public_api.get(
            f"/v1/public/actions/{forms_action.uuid}", page_query(forms_action, lead), HTTP_ORIGIN=self.ORIGIN
        )
        assert response["Access-Control-Allow-Origin"] == self.ORIGIN
        preflight = self.preflight(public_api, ENGAGEMENTS_URL, self.ORIGIN)
        assert preflight["Access-Control-Allow-Origin"] == self.ORIGIN
        assert "idempotency-key" in preflight["Access-Control-Allow-Headers"]
        body = engagement_body(forms_action, lead, uuid.uuid4(), "opened")
        posted = public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_ORIGIN=self.ORIGIN)
        assert posted.status_code == 201
        assert posted["Access-Control-Allow-Origin"] == self.ORIGIN

    def test_an_unknown_origin_gets_no_cors_headers(self, public_api, forms_action, lead):
        query = page_query(forms_action, lead)
        response = public_api.get(f"/v1/public/actions/{forms_action.uuid}", query, HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Origin" not in self.preflight(public_api, ENGAGEMENTS_URL, "https://evil.example")

    def test_another_companys_origin_cannot_post_for_this_company(self, public_api, other_company, forms_action, lead):
        other_company.settings = {"cors_origins": ["https://globex.example"]}
        other_company.save()
        path = f"/v1/public/actions/{forms_action.uuid}"
        page = public_api.get(path, page_query(forms_action, lead), HTTP_ORIGIN="https://globex.example")
        assert "Access-Control-Allow-Origin" not in page
        body = engagement_body(forms_action, lead, uuid.uuid4(), "opened")
        posted = public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_ORIGIN="https://globex.example")
        assert posted.status_code == 403
        assert posted.json()["type"].endswith("origin_not_allowed")
        assert Engagement.objects.count() == 0

    def test_the_default_hosts_own_origin_is_allowed(self, public_api, forms_action, lead):
        origin = "http://localhost:8123"
        response = public_api.get(
            f"/v1/public/actions/{forms_action.uuid}", page_query(forms_action, lead), HTTP_ORIGIN=origin
        )
        assert response["Access-Control-Allow-Origin"] == origin

    def test_settings_origins_are_allowed(self, public_api, forms_action, lead, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://static.example"]
        body = engagement_body(forms_action, lead, uuid.uuid4(), "opened")
        posted = public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_ORIGIN="https://static.example")
        assert posted.status_code == 201
        assert posted["Access-Control-Allow-Origin"] == "https://static.example"

    def test_api_key_endpoints_get_no_cors(self, action_engine_api, forms_action):
        response = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", HTTP_ORIGIN=self.ORIGIN)
        assert "Access-Control-Allow-Origin" not in response
