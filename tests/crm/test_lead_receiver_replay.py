"""Replaying lead receiver attempts: through the API, the admin and the management command, never making
a second lead for one attempt."""

import io
import json
import threading
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django_hosts.resolvers import reverse_host

from conftest import host_client
from crm import services as crm_services
from crm.models import Lead, LeadReceiverAttempt
from salesassist.hosts import CRM_API, DEFAULT
from tests.crm.factories import LeadReceiverFactory, UserFactory

# The third party sends the email at contact.email; the receiver was set up to read it elsewhere.
WRONG_TEMPLATE = {"fields": {"email": "contact.mail", "first_name": "contact.name"}}
FIXED_TEMPLATE = {"fields": {"email": "contact.email", "first_name": "contact.name"}}


@pytest.fixture
def receiver(company):
    return LeadReceiverFactory(company=company, template=WRONG_TEMPLATE)


def post_lead(client, receiver, email: str):
    body = json.dumps({"contact": {"email": email, "name": "Ada"}})
    return client.post(f"/v1/receivers/{receiver.uuid}/leads", data=body, content_type="application/json")


@pytest.fixture
def failed_attempt(public_crm, receiver) -> LeadReceiverAttempt:
    assert post_lead(public_crm, receiver, "ada@example.com").status_code == 400
    return LeadReceiverAttempt.objects.get()


def fix_template(receiver):
    receiver.template = FIXED_TEMPLATE
    receiver.save()


def replay(client, attempt):
    return client.post(f"/v1/receiver-attempts/{attempt.uuid}/replay")


def make_stale(attempt, **changes):
    an_hour_earlier = attempt.created_at - timedelta(hours=1)
    LeadReceiverAttempt.objects.filter(pk=attempt.pk).update(created_at=an_hour_earlier, **changes)


class TestReplayThroughTheApi:
    def test_a_replay_after_the_template_is_fixed_makes_the_lead(self, failed_attempt, receiver, crm_api):
        fix_template(receiver)
        response = replay(crm_api, failed_attempt)
        assert response.status_code == 200, response.content
        body = response.json()
        lead = Lead.objects.get()
        assert (body["outcome"], body["error"], body["duplicate"]) == ("processed", None, False)
        assert (body["uuid"], body["receiver"], body["lead"]) == (
            str(failed_attempt.uuid),
            str(receiver.uuid),
            str(lead.uuid),
        )
        assert "id" not in body and body["processed_at"]
        assert (lead.email, lead.first_name) == ("ada@example.com", "Ada")
        failed_attempt.refresh_from_db()
        assert (failed_attempt.outcome, failed_attempt.error, failed_attempt.lead) == ("processed", None, lead)

    def test_a_processed_attempt_is_not_replayed_again(self, failed_attempt, receiver, crm_api):
        fix_template(receiver)
        assert replay(crm_api, failed_attempt).status_code == 200
        again = replay(crm_api, failed_attempt)
        assert again.status_code == 409
        assert again["Content-Type"] == "application/problem+json"
        assert again.json()["type"] == "urn:salesassist:problem:lead_receiver_attempt_not_replayable"
        assert Lead.objects.count() == 1

    def test_a_replay_that_fails_again_keeps_the_error(self, failed_attempt, crm_api):
        response = replay(crm_api, failed_attempt)
        assert response.status_code == 200
        body = response.json()
        assert (body["outcome"], body["lead"], body["duplicate"]) == ("failed", None, False)
        assert body["error"]["status"] == 400 and "email" in body["error"]["errors"]
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "failed" and failed_attempt.error == body["error"]
        assert Lead.objects.count() == 0

    def test_another_companys_attempt_is_404(self, failed_attempt, receiver, other_api_key):
        fix_template(receiver)
        response = replay(host_client(CRM_API, other_api_key.token), failed_attempt)
        assert response.status_code == 404
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "failed"

    def test_replay_needs_a_read_write_key(self, failed_attempt, read_only_key):
        assert replay(host_client(CRM_API, read_only_key.token), failed_attempt).status_code == 403

    def test_replay_needs_a_key(self, failed_attempt, public_crm):
        assert replay(public_crm, failed_attempt).status_code == 401

    def test_a_deactivated_receiver_is_not_replayed_until_it_is_active_again(self, failed_attempt, receiver, crm_api):
        fix_template(receiver)
        receiver.is_active = False
        receiver.save()
        response = replay(crm_api, failed_attempt)
        assert (response.json()["outcome"], response.json()["error"]["status"]) == ("failed", 404)
        assert Lead.objects.count() == 0
        receiver.is_active = True
        receiver.save()
        assert replay(crm_api, failed_attempt).json()["outcome"] == "processed"


class TestInterruptedAttempts:
    """An attempt still "received" was cut off mid-processing (a crash) once it is 5 minutes old."""

    def test_an_interrupted_attempt_is_replayable_once_stale(self, failed_attempt, receiver, crm_api):
        fix_template(receiver)
        LeadReceiverAttempt.objects.filter(pk=failed_attempt.pk).update(outcome="received", error=None)
        assert replay(crm_api, failed_attempt).status_code == 409  # it may still be processing
        make_stale(failed_attempt)
        assert replay(crm_api, failed_attempt).json()["outcome"] == "processed"

    def test_a_replay_after_a_crash_finds_the_lead_made_and_makes_no_second_one(
        self, public_crm, receiver, company, crm_api
    ):
        fix_template(receiver)
        response = post_lead(public_crm, receiver, "Ada@Example.com")
        assert response.status_code == 201
        attempt = LeadReceiverAttempt.objects.get()
        # As if the process died after the lead committed, before the attempt was marked processed.
        make_stale(attempt, outcome="received", lead=None, processed_at=None)
        replayed = replay(crm_api, attempt).json()
        assert (replayed["outcome"], replayed["duplicate"]) == ("processed", True)
        assert replayed["lead"] == response.json()["lead"]
        assert Lead.objects.filter(company=company).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_replays_of_one_attempt_process_it_once(company, api_key):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two replays can never race; run this on PostgreSQL.")
    receiver = LeadReceiverFactory(company=company, template=WRONG_TEMPLATE)
    assert post_lead(host_client(CRM_API), receiver, "ada@example.com").status_code == 400
    attempt = LeadReceiverAttempt.objects.get()
    fix_template(receiver)
    barrier = threading.Barrier(2)
    statuses = []

    def call():
        try:
            client = host_client(CRM_API, api_key.token)
            barrier.wait(timeout=10)
            statuses.append(replay(client, attempt).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409]
    assert Lead.objects.count() == 1


class TestReplayCommand:
    def test_the_command_replays_failed_attempts_once(self, failed_attempt, receiver, capsys):
        fix_template(receiver)
        call_command("replay_lead_receiver_attempts")
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "processed"
        assert "1 processed, 0 failed, 0 skipped" in capsys.readouterr().out
        call_command("replay_lead_receiver_attempts")
        assert "0 processed, 0 failed, 0 skipped" in capsys.readouterr().out
        assert Lead.objects.count() == 1

    def test_dry_run_replays_nothing(self, failed_attempt, receiver, capsys):
        fix_template(receiver)
        call_command("replay_lead_receiver_attempts", "--dry-run")
        assert f"would replay {failed_attempt.uuid} (failed" in capsys.readouterr().out
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "failed" and Lead.objects.count() == 0

    def test_named_attempts_only(self, public_crm, failed_attempt, receiver):
        assert post_lead(public_crm, receiver, "bob@example.com").status_code == 400
        other = LeadReceiverAttempt.objects.exclude(pk=failed_attempt.pk).get()
        fix_template(receiver)
        call_command("replay_lead_receiver_attempts", str(other.uuid))
        assert list(Lead.objects.values_list("email", flat=True)) == ["bob@example.com"]
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "failed"

    def test_named_attempts_that_cannot_be_replayed_are_an_error(self, failed_attempt, receiver):
        fix_template(receiver)
        call_command("replay_lead_receiver_attempts", str(failed_attempt.uuid))
        with pytest.raises(CommandError, match="do not exist or cannot be replayed"):
            call_command("replay_lead_receiver_attempts", str(failed_attempt.uuid))
        with pytest.raises(CommandError, match="invalid UUID"):
            call_command("replay_lead_receiver_attempts", "not-a-uuid")

    def test_only_the_attempts_of_one_receiver(self, public_crm, failed_attempt, receiver, company):
        other_receiver = LeadReceiverFactory(company=company, template=WRONG_TEMPLATE)
        assert post_lead(public_crm, other_receiver, "bob@example.com").status_code == 400
        fix_template(receiver)
        fix_template(other_receiver)
        call_command("replay_lead_receiver_attempts", "--receiver", str(other_receiver.uuid))
        assert list(Lead.objects.values_list("email", flat=True)) == ["bob@example.com"]

    def test_the_limit(self, public_crm, failed_attempt, receiver):
        assert post_lead(public_crm, receiver, "bob@example.com").status_code == 400
        fix_template(receiver)
        call_command("replay_lead_receiver_attempts", "--limit", "1")
        # Oldest first.
        assert list(Lead.objects.values_list("email", flat=True)) == ["ada@example.com"]

    def test_the_command_goes_on_past_an_attempt_it_cannot_process(
        self, public_crm, failed_attempt, receiver, monkeypatch, capsys
    ):
        assert post_lead(public_crm, receiver, "bob@example.com").status_code == 400
        fix_template(receiver)
        upsert = crm_services.lead_receive_upsert

        def broken_for_ada(**kwargs):
            if kwargs["fields"]["email"] == "ada@example.com":
                raise RuntimeError("a bug")
            return upsert(**kwargs)

        monkeypatch.setattr("crm.services.lead_receivers.lead_receive_upsert", broken_for_ada)
        with pytest.raises(CommandError, match="1 attempt"):
            call_command("replay_lead_receiver_attempts")
        assert f"error {failed_attempt.uuid}: RuntimeError: a bug" in capsys.readouterr().err
        assert sorted(LeadReceiverAttempt.objects.values_list("outcome", flat=True)) == ["failed", "processed"]
        assert list(Lead.objects.values_list("email", flat=True)) == ["bob@example.com"]


class TestAdminAction:
    def changelist(self):
        return reverse("admin:crm_leadreceiverattempt_changelist")

    def test_the_admin_action_replays_failed_attempts(self, public_crm, failed_attempt, receiver, admin_client):
        fix_template(receiver)
        assert post_lead(public_crm, receiver, "bob@example.com").status_code == 201
        processed = LeadReceiverAttempt.objects.get(outcome="processed")
        response = admin_client.post(
            self.changelist(),
            {"action": "replay_calls", "_selected_action": [failed_attempt.pk, processed.pk]},
            follow=True,
        )
        assert "1 processed, 0 failed again, 1 not replayable" in response.content.decode()
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "processed"
        assert Lead.objects.count() == 2

    def test_staff_who_may_not_change_lead_receivers_cannot_replay(self, failed_attempt, receiver):
        fix_template(receiver)
        user = UserFactory(username="viewer", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_leadreceiverattempt"))
        client = Client(HTTP_HOST=reverse_host(DEFAULT))
        client.force_login(user)
        changelist = client.get(self.changelist())
        assert changelist.status_code == 200 and "replay_calls" not in changelist.content.decode()
        client.post(self.changelist(), {"action": "replay_calls", "_selected_action": [failed_attempt.pk]})
        failed_attempt.refresh_from_db()
        assert failed_attempt.outcome == "failed"


def test_the_crm_schema_documents_the_replay(db):
    out = io.StringIO()
    call_command("spectacular", urlconf="salesassist.urls.crm_api", validate=True, fail_on_warn=True, stdout=out)
    operation = yaml.safe_load(out.getvalue())["paths"]["/v1/receiver-attempts/{uuid}/replay"]["post"]
    assert operation["operationId"] == "lead_receiver_attempts_replay"
    assert {"200", "401", "403", "404", "409"} <= set(operation["responses"])
