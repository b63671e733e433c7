"""Operator control in the admin: replay deliveries, recover a workflow's failures, resume, checks on save."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus
from workflows.models import Delivery, Workflow
from workflows.services import deliveries_attempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]


def make_dead(action_company, sink, settings, count=2):
    settings.WORKFLOW_RETRY_SCHEDULE = [0]
    sink.default = Reply(500)
    for _ in range(count):
        record_engagement(action_company)
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    sink.default = Reply(200)


def test_replay_selected_deliveries(admin_client, action_company, sink, settings):
    attach_webhook(action_company, sink.url())
    make_dead(action_company, sink, settings)
    chosen = Delivery.objects.order_by("id").first()
    response = admin_client.post(
        reverse("admin:workflows_delivery_changelist"),
        {"action": "replay_deliveries", "_selected_action": [chosen.pk]},
        follow=True,
    )
    assert response.status_code == 200 and b"Queued 1 deliveries" in response.content
    statuses = dict(Delivery.objects.values_list("id", "status"))
    assert statuses.pop(chosen.pk) == DeliveryStatus.SUCCEEDED
    assert set(statuses.values()) == {DeliveryStatus.DEAD}


def test_recover_and_resume_workflows(admin_client, action_company, sink, settings):
    workflow = attach_webhook(action_company, sink.url())
    make_dead(action_company, sink, settings)
    Workflow.objects.filter(pk=workflow.pk).update(paused_at=timezone.now(), pause_reason="Paused: failing")
    changelist = reverse("admin:workflows_workflow_changelist")

    admin_client.post(changelist, {"action": "recover_deliveries", "_selected_action": [workflow.pk]})
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}

    admin_client.post(changelist, {"action": "resume_workflows", "_selected_action": [workflow.pk]})
    workflow.refresh_from_db()
    assert workflow.paused_at is None and workflow.failing_since is None


def test_admin_refuses_a_blocked_webhook_url_and_gives_new_webhooks_a_secret(admin_client, company, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    add = reverse("admin:workflows_workflow_add")
    data = {
        "company": company.pk,
        "name": "Internal",
        "kind": "webhook",
        "config": '{"url": "http://169.254.169.254/latest"}',
        "events": '["engagement.*"]',
        "stages": "[]",
        "conditions": "[]",
        "is_active": "on",
        "pause_reason": "",
        # the recent-deliveries inline's management form
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
        "deliveries-MIN_NUM_FORMS": "0",
        "deliveries-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(add, data)
    assert response.status_code == 200 and not Workflow.objects.exists()
    assert b"config.url" in response.content

    data["config"] = '{"url": "https://93.184.216.34/hook"}'
    response = admin_client.post(add, data)
    assert response.status_code == 302
    assert Workflow.objects.get().secret.startswith("whsec_")
