"""manage.py replay_deliveries: one delivery, or a workflow's failures since a time; one attempt each."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus
from workflows.models import Delivery
from workflows.services import deliveries_attempt

pytestmark = pytest.mark.django_db


def dead_deliveries(action_company, sink, count, settings):
    settings.WORKFLOW_RETRY_SCHEDULE = [0]
    sink.default = Reply(500)
    engagements = [record_engagement(action_company) for _ in range(count)]
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DEAD}
    sink.default = Reply(200)
    return engagements


def run(*args):
    out = StringIO()
    call_command("replay_deliveries", *args, stdout=out)
    return out.getvalue()


def test_replay_one_delivery(action_company, sink, settings):
    attach_webhook(action_company, sink.url())
    first, second = dead_deliveries(action_company, sink, 2, settings)
    delivery = first.deliveries.get()
    assert "1 succeeded, 0 failed" in run("--delivery", str(delivery.uuid))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert second.deliveries.get().status == DeliveryStatus.DEAD


def test_replay_a_workflows_failures_since_a_time(action_company, sink, settings):
    workflow = attach_webhook(action_company, sink.url())
    old, *recent = dead_deliveries(action_company, sink, 3, settings)
    Delivery.objects.filter(engagement=old).update(created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "2 succeeded, 0 failed" in run("--workflow", str(workflow.uuid), "--since", since)
    assert old.deliveries.get().status == DeliveryStatus.DEAD
    assert all(e.deliveries.get().status == DeliveryStatus.SUCCEEDED for e in recent)
    # nothing failed or dead is left since then: a second run does nothing
    assert "Replayed 0 deliveries" in run("--workflow", str(workflow.uuid), "--since", since)


def test_queue_option_hands_the_attempts_to_the_workers(action_company, sink, settings, q_sync):
    workflow = attach_webhook(action_company, sink.url())
    dead_deliveries(action_company, sink, 2, settings)
    assert "Queued 2" in run("--workflow", str(workflow.uuid), "--since", "2000-01-01T00:00:00Z", "--queue")
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


@pytest.mark.parametrize(
    "args",
    [(), ("--delivery", "nope"), ("--delivery", "7f2c1f9e-3f7b-4a52-9a43-1d2f0c7e9b11"), ("--workflow", "x"),
     ("--workflow", "7f2c1f9e-3f7b-4a52-9a43-1d2f0c7e9b11", "--since", "yesterday")],
)
def test_bad_arguments_are_command_errors(args):
    with pytest.raises(CommandError):
        run(*args)
