"""The email kind, and pausing a workflow whose every attempt failed for too long."""
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.crm.factories import LeadFactory, UserFactory
from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.factories import ActionCompanyWorkflowFactory, WorkflowFactory
from tests.workflows.sink import Reply
from workflows.choices import AttemptError, DeliveryStatus, WorkflowKind
from workflows.models import Delivery, Workflow
from workflows.services import deliveries_attempt, deliveries_sweep, workflow_test

pytestmark = pytest.mark.django_db


def email_workflow(action_company, recipients):
    workflow = WorkflowFactory(
        company=action_company.company, kind=WorkflowKind.EMAIL, config={"recipients": recipients}, secret=""
    )
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    return workflow


def send(engagement):
    return deliveries_attempt(delivery_ids=list(engagement.deliveries.values_list("id", flat=True)))


def test_email_goes_to_the_lead_owner_and_fixed_addresses(action_company):
    owner = UserFactory(username="owner", email="owner@acme.com")
    lead = LeadFactory(company=action_company.company, owner=owner, first_name="Ana", email="ana@lead.com")
    email_workflow(action_company, ["lead_owner", "ops@acme.com"])
    engagement = record_engagement(action_company, lead=lead, body={"data": {"email": "ana@lead.com", "plan": "pro"}})

    (attempt,) = send(engagement)
    assert attempt.succeeded
    (message,) = mail.outbox
    assert message.to == ["owner@acme.com", "ops@acme.com"]
    assert action_company.name in message.subject and "Ana" in message.subject
    assert "submitted" in message.body and "data.plan: pro" in message.body and str(lead.uuid) in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "ana@lead.com" in html
    assert engagement.deliveries.get().status == DeliveryStatus.SUCCEEDED


def test_email_without_any_recipient_is_dead_at_once(action_company):
    email_workflow(action_company, ["lead_owner"])  # the lead has no owner
    engagement = record_engagement(action_company)
    (attempt,) = send(engagement)
    assert not attempt.succeeded and attempt.error_class == AttemptError.INVALID_CONFIG
    assert engagement.deliveries.get().status == DeliveryStatus.DEAD
    assert mail.outbox == []


def test_email_test_mode(action_company):
    workflow = email_workflow(action_company, ["ops@acme.com"])
    outcome = workflow_test(workflow=workflow)
    assert outcome.succeeded and outcome.exact_request["to"] == ["ops@acme.com"]
    assert len(mail.outbox) == 1 and "Sam" in mail.outbox[0].body


def test_a_workflow_failing_longer_than_the_threshold_is_paused_and_staff_emailed(
    action_company, sink, staff_user, settings
):
    settings.WORKFLOW_PAUSE_AFTER_HOURS = 24
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 0, 0]
    workflow = attach_webhook(action_company, sink.url())
    sink.default = Reply(500)

    send(record_engagement(action_company))
    workflow.refresh_from_db()
    assert workflow.failing_since is not None and workflow.paused_at is None
    assert mail.outbox == []

    Workflow.objects.filter(pk=workflow.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    send(record_engagement(action_company))
    workflow.refresh_from_db()
    assert workflow.paused_at is not None and workflow.is_active and workflow.deleted_at is None
    assert "failed" in workflow.pause_reason
    (message,) = mail.outbox
    assert message.to == [staff_user.email] and workflow.name in message.subject
    assert str(workflow.uuid) in message.body

    # paused: no new deliveries, and its failed ones are not swept
    third = record_engagement(action_company)
    assert not third.deliveries.exists()
    assert deliveries_sweep() == 0
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 2


def test_one_success_resets_the_failing_clock(action_company, sink, settings):
    settings.WORKFLOW_PAUSE_AFTER_HOURS = 24
    workflow = attach_webhook(action_company, sink.url())
    sink.script(Reply(500))
    send(record_engagement(action_company))
    workflow.refresh_from_db()
    assert workflow.failing_since is not None
    send(record_engagement(action_company))
    workflow.refresh_from_db()
    assert workflow.failing_since is None and workflow.paused_at is None


def test_the_project_settings_bound_smtp_waits():
    from django.conf import settings as project_settings

    assert project_settings.EMAIL_TIMEOUT == 15


@pytest.mark.parametrize("email_timeout", [1, None])
def test_a_silent_smtp_server_fails_the_attempt_within_the_timeout(action_company, settings, monkeypatch, email_timeout):
    import socket
    import time

    from workflows.kinds import email as email_kind

    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) but never says a word
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = email_timeout
        monkeypatch.setattr(email_kind, "DEFAULT_EMAIL_TIMEOUT", 1)  # the fallback when the setting is unset
        email_workflow(action_company, ["ops@acme.com"])
        engagement = record_engagement(action_company)
        started = time.monotonic()
        (attempt,) = send(engagement)
        assert time.monotonic() - started < 3
    finally:
        listener.close()
    assert not attempt.succeeded and attempt.error_class == AttemptError.EMAIL
    assert engagement.deliveries.get().status == DeliveryStatus.FAILED
