"""Receivers' signatures: lead receivers can require a Standard Webhooks signature as company action receivers
do; a call failing the check keeps no body, only a small record; and past a per-receiver rate of failed
checks such calls are refused without being kept, while genuine calls keep flowing."""

import json
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from action_engine.models import Engagement, ReceiverCall
from conftest import host_client
from crm.models import Lead, LeadReceiverAttempt
from salesassist.hosts import ACTION_ENGINE_API, CRM_API
from tests.action_engine.public_fixtures import forms_action, lead  # noqa: F401
from tests.crm.factories import LeadReceiverFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
OTHER_SECRET = "whsec_" + "Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLTEyMzQ="


def stock_signed(body: str, *, secret=SECRET, msg_id="msg_1", signed_at=None) -> dict:
    """The headers the stock `standardwebhooks` package's Webhook.sign makes, as the test client passes them."""
    signed_at = signed_at or datetime.now(tz=timezone.utc)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(signed_at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign(msg_id=msg_id, timestamp=signed_at, data=body),
    }


@pytest.fixture
def lead_receiver(company):
    return LeadReceiverFactory(company=company, secret=SECRET, template={"fields": {"email": "email"}})


@pytest.fixture(params=["lead receiver", "action receiver"])
def signed(request, company):
    """A receiver with a secret, of either kind: where it is posted to, a body it accepts, its calls' model."""
    client = host_client(CRM_API if request.param == "lead receiver" else ACTION_ENGINE_API)
    if request.param == "lead receiver":
        receiver = request.getfixturevalue("lead_receiver")
        return SimpleNamespace(
            client=client,
            url=f"/v1/receivers/{receiver.uuid}/leads",
            body=lambda n=0: json.dumps({"email": f"ada{n}@example.com"}),
            calls=LeadReceiverAttempt,
            call_field="attempt",
            made=Lead.objects,
        )
    receiver = request.getfixturevalue("forms_action").receivers.get(is_active=True)
    receiver.secret = SECRET
    receiver.mapping = {"lead": "lead", "visitor": "visitor", "stage": "event", "message": "payload"}
    receiver.save()
    lead_uuid, visitor_uuid = str(request.getfixturevalue("lead").uuid), str(uuid.uuid4())
    return SimpleNamespace(
        client=client,
        url=f"/v1/receivers/{receiver.uuid}",
        body=lambda n=0: json.dumps(
            {
                "lead": lead_uuid,
                "visitor": visitor_uuid,
                "event": "submitted",
                "n": n,
                "payload": {"data": {"email": "ada@example.com"}},
            }
        ),
        calls=ReceiverCall,
        call_field="receiver_call",
        made=Engagement.objects,
    )


def post(target, body: str, **headers):
    return target.client.post(target.url, data=body, content_type="application/json", **headers)


@pytest.fixture
def failures_limit(settings):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES, "receiver_signature_failures": "3/min"}


def refused_until_limited(target) -> list:
    """Badly signed calls to the receiver until its limit of failed checks (3 a minute here) is passed."""
    return [post(target, target.body(), **stock_signed(target.body(), secret=OTHER_SECRET)) for _ in range(5)]


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: {},
        lambda body: stock_signed(body, secret=OTHER_SECRET),
        lambda body: stock_signed(body, signed_at=datetime.now(tz=timezone.utc) - timedelta(hours=1)),
        lambda body: {**stock_signed(body), "HTTP_WEBHOOK_SIGNATURE": "v1,not-base64!"},
    ],
    ids=["unsigned", "another secret", "stale", "malformed"],
)
def test_a_lead_receiver_with_a_secret_refuses_unsigned_and_badly_signed_calls(lead_receiver, headers):
    body = json.dumps({"email": "ada@example.com"})
    client = host_client(CRM_API)
    response = client.post(
        f"/v1/receivers/{lead_receiver.uuid}/leads", data=body, content_type="application/json", **headers(body)
    )
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:salesassist:problem:invalid_signature"
    assert Lead.objects.count() == 0


def test_a_lead_receiver_with_a_secret_accepts_a_call_signed_by_the_stock_package(lead_receiver):
    body = json.dumps({"email": "ada@example.com"})
    client = host_client(CRM_API)
    response = client.post(
        f"/v1/receivers/{lead_receiver.uuid}/leads", data=body, content_type="application/json", **stock_signed(body)
    )
    assert response.status_code == 201, response.content
    assert Lead.objects.get().email == "ada@example.com"


def test_a_lead_receivers_secret_is_set_through_the_api_and_shown_only_once(company, crm_api):
    receiver = LeadReceiverFactory(company=company, template={"fields": {"email": "email"}})
    assert crm_api.get(f"/v1/lead-receivers/{receiver.uuid}").json()["has_secret"] is False
    url = f"/v1/lead-receivers/{receiver.uuid}/rotate-secret"
    response = crm_api.post(url, {"generate_secret": True}, format="json")
    assert response.status_code == 200, response.content
    secret = response.json()["secret"]
    assert secret.startswith("whsec_") and response.json()["has_secret"] is True
    shown = crm_api.get(f"/v1/lead-receivers/{receiver.uuid}").json()
    assert shown["has_secret"] is True and "secret" not in shown
    body = json.dumps({"email": "ada@example.com"})
    public = host_client(CRM_API)
    url = f"/v1/receivers/{receiver.uuid}/leads"
    assert public.post(url, data=body, content_type="application/json").status_code == 401
    signed_call = public.post(url, data=body, content_type="application/json", **stock_signed(body, secret=secret))
    assert signed_call.status_code == 201, signed_call.content


def test_a_failing_call_keeps_headers_size_and_reason_but_no_body(signed):
    body = json.dumps({"padding": "x" * 100_000})
    many_headers = {f"HTTP_X_NOISE_{n}": "y" * 5000 for n in range(100)}
    response = post(signed, body, HTTP_AUTHORIZATION="Bearer stolen", **many_headers)
    assert response.status_code == 401
    call = signed.calls.objects.get()
    assert response.json()[signed.call_field] == str(call.uuid)
    assert (call.outcome, call.rejection, call.body, call.body_size) == ("rejected", "missing", "", len(body))
    assert call.source_ip == "127.0.0.1" and call.created_at is not None
    assert call.error["code"] == "invalid_signature"
    assert "authorization" not in call.headers
    assert call.headers  # kept, within bounds:
    assert len(call.headers) <= 40 and all(len(value) <= 500 for value in call.headers.values())
    assert len(json.dumps(call.headers)) < 25_000


def test_a_rejected_call_is_shown_as_rejected_and_never_replayed(signed, api_key, capsys):
    post(signed, signed.body())
    call = signed.calls.objects.get()
    assert call.outcome == "rejected"
    if signed.calls is ReceiverCall:
        command, api = "replay_receiver_calls", host_client(ACTION_ENGINE_API, api_key.token)
        replay_url = f"/v1/receiver-calls/{call.uuid}/replay"
    else:
        command, api = "replay_lead_receiver_attempts", host_client(CRM_API, api_key.token)
        replay_url = f"/v1/receiver-attempts/{call.uuid}/replay"
    assert api.post(replay_url).status_code == 409
    call_command(command, "--dry-run")
    assert str(call.uuid) not in capsys.readouterr().out
    assert signed.made.count() == 0


def test_past_the_per_receiver_limit_failing_calls_are_429_and_not_stored(signed, failures_limit):
    answers = refused_until_limited(signed)
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429]
    assert answers[-1]["Content-Type"] == "application/problem+json"
    assert answers[-1].json()["status"] == 429 and "Retry-After" in answers[-1]
    assert signed.calls.objects.count() == 3


def test_valid_calls_still_pass_when_the_limit_is_hit(signed, failures_limit):
    assert refused_until_limited(signed)[-1].status_code == 429
    for n in range(5):
        body = signed.body(n)
        response = post(signed, body, **stock_signed(body, msg_id=f"msg_{n}"))
        assert response.status_code == 201, response.content
    assert signed.calls.objects.filter(outcome="processed").count() == 5
