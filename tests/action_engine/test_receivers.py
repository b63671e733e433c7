"""Company action receivers: raw call stored first, mapped into an engagement, signed with a secret, replayable."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import CommandError, call_command
from standardwebhooks.webhooks import Webhook

from action_engine import services as action_engine_services
from action_engine.models import Engagement, ReceiverCall
from conftest import host_client
from salesassist.core.inbound.models import InboundOutcome
from salesassist.hosts import ACTION_ENGINE_API
from tests.action_engine.public_fixtures import forms_action, lead, public_api  # noqa: F401
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
MAPPING = {
    "lead": "contact.id",
    "visitor": "contact.browser",
    "stage": "event",
    "message": "payload",
    "stages": {"form.completed": "submitted"},
}


@pytest.fixture
def receiver(forms_action):
    receiver = forms_action.receivers.get(is_active=True)
    receiver.mapping = MAPPING
    receiver.save()
    return receiver


def third_party_body(lead, event="form.completed", data=None):
    return {
        "event": event,
        "contact": {"id": str(lead.uuid), "browser": str(uuid.uuid4())},
        "payload": {"data": data or {"email": "ada@example.com"}},
    }


def post_call(client, receiver, body, **headers):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/v1/receivers/{receiver.uuid}", data=raw, content_type="application/json", **headers)


def signed_headers(body: str, secret=SECRET, msg_id="msg_1"):
    now = datetime.now(tz=timezone.utc)
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


def test_a_mapped_call_becomes_an_engagement(public_api, receiver, lead):
    response = post_call(public_api, receiver, third_party_body(lead), HTTP_AUTHORIZATION="Bearer hidden")
    assert response.status_code == 201, response.content
    call = ReceiverCall.objects.get()
    assert call.outcome == InboundOutcome.PROCESSED
    assert str(call.uuid) == response.json()["receiver_call"]
    assert "authorization" not in call.headers and call.source_ip == "127.0.0.1"
    engagement = Engagement.objects.get()
    assert (engagement.stage, engagement.receiver, engagement.lead) == ("submitted", receiver, lead)
    assert call.engagement == engagement
    assert engagement.message.body["data"] == {"email": "ada@example.com"}


def test_an_identical_call_without_a_webhook_id_moments_later_records_once(public_api, receiver, lead):
    body = third_party_body(lead)
    first = post_call(public_api, receiver, body)
    again = post_call(public_api, receiver, body)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["uuid"] == first.json()["uuid"]
    # Both calls are kept, and both point at the one engagement.
    assert {call.engagement for call in ReceiverCall.objects.all()} == {Engagement.objects.get()}
    assert ReceiverCall.objects.count() == 2


def test_the_default_stage_applies_when_the_call_has_none(public_api, receiver, lead):
    receiver.default_stage = "opened"
    receiver.save()
    body = third_party_body(lead)
    del body["event"]
    assert post_call(public_api, receiver, body).status_code == 201
    assert Engagement.objects.get().stage == "opened"


def test_the_raw_call_is_stored_even_when_mapping_fails(public_api, receiver, lead):
    response = post_call(public_api, receiver, {"something": "else"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    call = ReceiverCall.objects.get()
    assert call.outcome == InboundOutcome.FAILED
    assert json.loads(call.body) == {"something": "else"}
    assert set(call.error["errors"]) == {"lead", "visitor", "stage"}
    assert Engagement.objects.count() == 0


def test_malformed_json_is_stored_and_failed(public_api, receiver):
    response = post_call(public_api, receiver, "{not json")
    assert response.status_code == 400
    call = ReceiverCall.objects.get()
    assert (call.body, call.outcome, call.error["code"]) == ("{not json", "failed", "parse_error")


@pytest.mark.parametrize("depth", [100, 3000])
def test_too_deeply_nested_json_is_stored_and_failed(public_api, receiver, lead, depth):
    body = '{"lead": "%s", "stage": "opened", "message": %s}' % (lead.uuid, '{"a":' * depth + "1" + "}" * depth)
    response = post_call(public_api, receiver, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    call = ReceiverCall.objects.get()
    assert (call.outcome, call.error["code"]) == ("failed", "parse_error")
    assert Engagement.objects.count() == 0


@pytest.mark.parametrize("nul", ["\\u0000", "\x00"], ids=["escaped", "raw-byte"])
def test_a_nul_character_is_stored_and_failed(public_api, receiver, lead, nul):
    body = json.dumps(third_party_body(lead)).replace("ada@example.com", f"ada{nul}@example.com")
    response = post_call(public_api, receiver, body)
    assert response.status_code == 400
    call = ReceiverCall.objects.get()
    assert (call.outcome, call.error["code"]) == ("failed", "parse_error")
    assert "ada" in call.body
    assert Engagement.objects.count() == 0


def test_an_error_of_ours_keeps_the_call_failed_and_replayable(
    public_api, receiver, lead, action_engine_api, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("action_engine.services.receivers.engagement_record", broken)
    public_api.raise_request_exception = False
    assert post_call(public_api, receiver, third_party_body(lead)).status_code == 500
    call = ReceiverCall.objects.get()
    assert (call.outcome, call.error["code"]) == ("failed", "internal_error")
    monkeypatch.undo()
    replayed = action_engine_api.post(f"/v1/receiver-calls/{call.uuid}/replay")
    assert replayed.json()["outcome"] == "processed"
    assert Engagement.objects.count() == 1


def test_an_unknown_lead_fails_the_call_with_404(public_api, receiver, other_company):
    response = post_call(public_api, receiver, third_party_body(LeadFactory(company=other_company)))
    assert response.status_code == 404
    assert ReceiverCall.objects.get().outcome == InboundOutcome.FAILED


def test_a_message_the_system_refuses_fails_the_call(public_api, receiver, lead):
    response = post_call(public_api, receiver, third_party_body(lead, data={"email": "nope"}))
    assert response.status_code == 400
    assert "data.email" in response.json()["errors"]
    assert ReceiverCall.objects.get().error["errors"] == response.json()["errors"]


def test_a_deactivated_companys_receiver_records_nothing_but_keeps_the_call(public_api, receiver, lead, company):
    company.is_active = False
    company.save()
    assert post_call(public_api, receiver, third_party_body(lead)).status_code == 404
    assert (ReceiverCall.objects.get().outcome, Engagement.objects.count()) == ("failed", 0)


def test_inactive_and_unknown_receivers_are_404(public_api, receiver, lead):
    receiver.is_active = False
    receiver.save()
    assert post_call(public_api, receiver, third_party_body(lead)).status_code == 404
    assert public_api.post(f"/v1/receivers/{uuid.uuid4()}", {}, format="json").status_code == 404
    assert ReceiverCall.objects.count() == 0


class TestSignatures:
    @pytest.fixture
    def signed_receiver(self, receiver):
        receiver.secret = SECRET
        receiver.save()
        return receiver

    def test_a_valid_signature_passes(self, public_api, signed_receiver, lead):
        body = json.dumps(third_party_body(lead))
        response = post_call(public_api, signed_receiver, body, **signed_headers(body))
        assert response.status_code == 201, response.content

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": "1", "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA"},
            {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": "now", "HTTP_WEBHOOK_SIGNATURE": "garbage"},
        ],
        ids=["missing", "stale", "malformed"],
    )
    def test_a_missing_or_invalid_signature_is_401_and_kept_as_rejected(
        self, public_api, signed_receiver, lead, headers, request
    ):
        response = post_call(public_api, signed_receiver, third_party_body(lead), **headers)
        assert response.status_code == 401
        assert response.json()["type"].endswith("invalid_signature")
        call = ReceiverCall.objects.get()
        assert response.json()["receiver_call"] == str(call.uuid)
        assert (call.outcome, call.rejection) == ("rejected", request.node.callspec.id)
        assert Engagement.objects.count() == 0

    def test_malformed_signature_header_of_a_fresh_timestamp(self, public_api, signed_receiver, lead):
        body = json.dumps(third_party_body(lead))
        headers = signed_headers(body)
        headers["HTTP_WEBHOOK_SIGNATURE"] = "no-comma-here"
        assert post_call(public_api, signed_receiver, body, **headers).status_code == 401

    def test_a_body_changed_after_signing_fails(self, public_api, signed_receiver, lead):
        body = json.dumps(third_party_body(lead))
        headers = signed_headers(body)
        assert post_call(public_api, signed_receiver, body.replace("ada@", "eve@"), **headers).status_code == 401

    def test_a_sender_retry_with_the_same_webhook_id_records_once(self, public_api, signed_receiver, lead):
        body = json.dumps(third_party_body(lead))
        first = post_call(public_api, signed_receiver, body, **signed_headers(body))
        second = post_call(public_api, signed_receiver, body, **signed_headers(body))
        assert first.status_code == second.status_code == 201
        assert first.json()["uuid"] == second.json()["uuid"]
        assert second["Idempotent-Replayed"] == "true"
        assert Engagement.objects.count() == 1 and ReceiverCall.objects.count() == 2

    def test_a_webhook_id_sent_again_with_another_body_is_refused(self, public_api, signed_receiver, lead):
        # The webhook-id is the sender's idempotency key: another body under it is not the same call.
        body = json.dumps(third_party_body(lead))
        assert post_call(public_api, signed_receiver, body, **signed_headers(body)).status_code == 201
        changed = json.dumps(third_party_body(lead, data={"email": "grace@example.com"}))
        response = post_call(public_api, signed_receiver, changed, **signed_headers(changed))
        assert response.status_code == 422
        assert response.json()["type"].endswith("idempotency_key_mismatch")
        assert ReceiverCall.objects.filter(outcome="failed").count() == 1
        assert Engagement.objects.get().message.body["data"] == {"email": "ada@example.com"}

    def test_a_call_refused_for_its_signature_cannot_be_replayed(self, public_api, signed_receiver, lead, api_key):
        post_call(public_api, signed_receiver, third_party_body(lead))
        call = ReceiverCall.objects.get()
        client = host_client(ACTION_ENGINE_API, api_key.token)
        response = client.post(f"/v1/receiver-calls/{call.uuid}/replay")
        assert response.status_code == 409
        assert Engagement.objects.count() == 0


class TestReplay:
    @pytest.fixture
    def failed_call(self, public_api, receiver, company):
        # The lead does not exist yet when the third party calls: the call fails and waits for a replay.
        self.lead_uuid = uuid.uuid4()
        body = third_party_body(LeadFactory.build(company=company, uuid=self.lead_uuid))
        assert post_call(public_api, receiver, body).status_code == 404
        return ReceiverCall.objects.get()

    def test_replay_through_the_api(self, failed_call, company, action_engine_api):
        LeadFactory(company=company, uuid=self.lead_uuid)
        response = action_engine_api.post(f"/v1/receiver-calls/{failed_call.uuid}/replay")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["outcome"] == "processed" and body["error"] is None
        assert body["engagement"] == str(Engagement.objects.get().uuid)
        again = action_engine_api.post(f"/v1/receiver-calls/{failed_call.uuid}/replay")
        assert again.status_code == 409
        assert Engagement.objects.count() == 1

    def test_replay_that_fails_again_keeps_the_error(self, failed_call, action_engine_api):
        response = action_engine_api.post(f"/v1/receiver-calls/{failed_call.uuid}/replay")
        assert response.status_code == 200
        assert response.json()["outcome"] == "failed"
        assert response.json()["error"]["status"] == 404

    def test_another_companys_call_is_404(self, failed_call, other_api_key):
        client = host_client(ACTION_ENGINE_API, other_api_key.token)
        assert client.post(f"/v1/receiver-calls/{failed_call.uuid}/replay").status_code == 404

    def test_replay_needs_a_read_write_key(self, failed_call, read_only_key):
        client = host_client(ACTION_ENGINE_API, read_only_key.token)
        assert client.post(f"/v1/receiver-calls/{failed_call.uuid}/replay").status_code == 403

    def test_the_management_command_replays_failed_calls(self, failed_call, company, capsys):
        LeadFactory(company=company, uuid=self.lead_uuid)
        call_command("replay_receiver_calls")
        failed_call.refresh_from_db()
        assert failed_call.outcome == "processed"
        assert "1 processed" in capsys.readouterr().out
        call_command("replay_receiver_calls")
        assert Engagement.objects.count() == 1

    def test_the_command_goes_on_past_a_call_it_cannot_process(self, failed_call, receiver, company, monkeypatch):
        LeadFactory(company=company, uuid=self.lead_uuid)
        other_lead = LeadFactory.build(company=company)
        assert post_call(host_client(ACTION_ENGINE_API), receiver, third_party_body(other_lead)).status_code == 404
        LeadFactory(company=company, uuid=other_lead.uuid)
        record = action_engine_services.engagement_record

        def broken_for_the_first(**kwargs):
            if kwargs["lead_uuid"] == self.lead_uuid:
                raise RuntimeError("a bug")
            return record(**kwargs)

        monkeypatch.setattr("action_engine.services.receivers.engagement_record", broken_for_the_first)
        with pytest.raises(CommandError, match="1 call"):
            call_command("replay_receiver_calls")
        assert sorted(ReceiverCall.objects.values_list("outcome", flat=True)) == ["failed", "processed"]

    def test_the_command_can_pick_calls_and_dry_run(self, failed_call, company, capsys):
        LeadFactory(company=company, uuid=self.lead_uuid)
        call_command("replay_receiver_calls", "--dry-run")
        failed_call.refresh_from_db()
        assert failed_call.outcome == "failed"
        call_command("replay_receiver_calls", str(failed_call.uuid))
        failed_call.refresh_from_db()
        assert failed_call.outcome == "processed"

    def test_an_interrupted_call_is_replayable_once_stale(self, failed_call, company, action_engine_api):
        ReceiverCall.objects.filter(pk=failed_call.pk).update(outcome="received", error=None)
        assert action_engine_api.post(f"/v1/receiver-calls/{failed_call.uuid}/replay").status_code == 409
        ReceiverCall.objects.filter(pk=failed_call.pk).update(created_at=failed_call.created_at - timedelta(hours=1))
        LeadFactory(company=company, uuid=self.lead_uuid)
        assert action_engine_api.post(f"/v1/receiver-calls/{failed_call.uuid}/replay").json()["outcome"] == "processed"

    def test_a_call_cut_off_after_its_engagement_is_not_recorded_twice(
        self, public_api, receiver, lead, action_engine_api
    ):
        assert post_call(public_api, receiver, third_party_body(lead)).status_code == 201
        call = ReceiverCall.objects.get()
        # As if the process died after the engagement committed, before the call was marked processed.
        ReceiverCall.objects.filter(pk=call.pk).update(
            outcome="received", engagement=None, created_at=call.created_at - timedelta(hours=1)
        )
        replayed = action_engine_api.post(f"/v1/receiver-calls/{call.uuid}/replay").json()
        assert replayed["outcome"] == "processed"
        assert replayed["engagement"] == str(Engagement.objects.get().uuid)


class TestReplayOfSignedCalls:
    """A signed receiver's call is checked before it is stored: a stale "received" one passed the check, and
    its replay, an hour later, is not refused for the age of its signature."""

    def interrupted(self, public_api, receiver, lead, company, headers):
        receiver.secret = SECRET
        receiver.save()
        body = json.dumps(third_party_body(LeadFactory.build(company=company, uuid=lead.uuid)))
        post_call(public_api, receiver, body, **headers(body))
        call = ReceiverCall.objects.get()
        Engagement.objects.all().delete()
        ReceiverCall.objects.filter(pk=call.pk).update(
            outcome="received", error=None, engagement=None, created_at=call.created_at - timedelta(hours=1)
        )
        return call

    def test_a_genuine_signature_of_an_hour_ago_passes(self, public_api, receiver, lead, company, action_engine_api):
        call = self.interrupted(public_api, receiver, lead, company, signed_headers)
        replayed = action_engine_api.post(f"/v1/receiver-calls/{call.uuid}/replay").json()
        assert replayed["outcome"] == "processed"


class TestAdmin:
    def test_the_admin_action_replays_failed_calls(self, public_api, receiver, company, admin_client):
        from django.urls import reverse

        lead_uuid = uuid.uuid4()
        body = third_party_body(LeadFactory.build(company=company, uuid=lead_uuid))
        post_call(public_api, receiver, body)
        post_call(public_api, receiver, third_party_body(LeadFactory(company=company)))
        failed, processed = ReceiverCall.objects.get(outcome="failed"), ReceiverCall.objects.get(outcome="processed")
        LeadFactory(company=company, uuid=lead_uuid)
        response = admin_client.post(
            reverse("admin:action_engine_receivercall_changelist"),
            {"action": "replay_calls", "_selected_action": [failed.pk, processed.pk]},
            follow=True,
        )
        assert "1 processed, 0 failed again, 1 not replayable" in response.content.decode()
        failed.refresh_from_db()
        assert failed.outcome == "processed"
        assert Engagement.objects.count() == 2

    def test_staff_without_receiver_rights_cannot_replay(self, public_api, receiver, company, client):
        from django.contrib.auth.models import Permission
        from django.urls import reverse

        from tests.crm.factories import UserFactory

        post_call(public_api, receiver, {"lead": "nobody"})
        user = UserFactory(username="viewer", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_receivercall"))
        client.force_login(user)
        call = ReceiverCall.objects.get()
        changelist = client.get(reverse("admin:action_engine_receivercall_changelist"), HTTP_HOST="localhost")
        assert changelist.status_code == 200 and "replay_calls" not in changelist.content.decode()
        client.post(
            reverse("admin:action_engine_receivercall_changelist"),
            {"action": "replay_calls", "_selected_action": [call.pk]},
            HTTP_HOST="localhost",
        )
        call.refresh_from_db()
        assert call.outcome == "failed"
