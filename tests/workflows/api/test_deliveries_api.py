"""Deliveries on api.action-engine: list with filters, one with its attempts, replay; tenant isolation."""
import pytest

from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.factories import DeliveryAttemptFactory, DeliveryFactory
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus
from workflows.models import Delivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]

DELIVERIES = "/v1/deliveries/"


def uuids(response):
    assert response.status_code == 200, response.content
    return {item["uuid"] for item in response.json()["results"]}


def test_list_filters_by_workflow_engagement_and_status(
    action_engine_api, action_company, sink, settings, django_capture_on_commit_callbacks
):
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 3600]  # the failed one stays failed for the test
    good = attach_webhook(action_company, sink.url("/good"))
    bad = attach_webhook(action_company, sink.url("/bad"))
    sink.default = Reply(200)
    with django_capture_on_commit_callbacks(execute=True):
        sink.script(Reply(500))  # one send fails
        first = record_engagement(action_company)
        second = record_engagement(action_company)
    deliveries = {(d.workflow_id, d.engagement_id): d for d in Delivery.objects.all()}
    assert len(deliveries) == 4

    assert len(uuids(action_engine_api.get(DELIVERIES))) == 4
    assert uuids(action_engine_api.get(DELIVERIES, {"workflow": str(good.uuid)})) == {
        str(deliveries[(good.pk, first.pk)].uuid),
        str(deliveries[(good.pk, second.pk)].uuid),
    }
    assert uuids(action_engine_api.get(DELIVERIES, {"engagement": str(second.uuid)})) == {
        str(deliveries[(good.pk, second.pk)].uuid),
        str(deliveries[(bad.pk, second.pk)].uuid),
    }
    # one task sends all four at once, in parallel: which one met the scripted 500 is up to the threads
    failed = uuids(action_engine_api.get(DELIVERIES, {"status": "failed"}))
    assert failed == {str(d.uuid) for d in Delivery.objects.filter(status=DeliveryStatus.FAILED)}
    assert len(failed) == 1
    assert len(uuids(action_engine_api.get(DELIVERIES, {"status": "succeeded"}))) == 3
    assert action_engine_api.get(DELIVERIES, {"status": "lost"}).status_code == 400
    assert action_engine_api.get(DELIVERIES, {"workflow": "not-a-uuid"}).status_code == 400


def test_detail_has_every_attempt(action_engine_api, action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url())
    sink.script(Reply(503, body=b"later"))
    with django_capture_on_commit_callbacks(execute=True):
        engagement = record_engagement(action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    from workflows.services import deliveries_sweep

    deliveries_sweep()
    body = action_engine_api.get(f"{DELIVERIES}{delivery.uuid}/").json()
    assert body["status"] == "succeeded" and body["attempt_count"] == 2
    assert body["engagement"] == str(engagement.uuid)
    first, second = body["attempts"]
    assert (first["number"], first["response_status"], first["response_body"], first["succeeded"]) == (
        1, 503, "later", False
    )
    assert first["error_class"] == "http_status" and first["duration_ms"] >= 0
    assert first["request_headers"]["webhook-signature"] == "[redacted]"
    assert first["request_headers"]["webhook-id"] == f"msg_{delivery.uuid.hex}"
    assert second["succeeded"] is True and second["is_manual"] is False


def test_replay_is_one_manual_attempt(action_engine_api, action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url())
    with django_capture_on_commit_callbacks(execute=True):
        engagement = record_engagement(action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.SUCCEEDED

    response = action_engine_api.post(f"{DELIVERIES}{delivery.uuid}/replay")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["attempt_count"] == 2
    assert body["attempts"][-1]["is_manual"] is True
    first, second = sink.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_replay_of_a_delivery_being_sent_is_409(action_engine_api, company):
    from datetime import timedelta

    from django.utils import timezone

    delivery = DeliveryFactory(engagement__company=company, leased_until=timezone.now() + timedelta(seconds=30))
    response = action_engine_api.post(f"{DELIVERIES}{delivery.uuid}/replay")
    assert response.status_code == 409
    assert response.json()["status"] == 409


def test_another_companys_deliveries_are_invisible(action_engine_api, other_company):
    foreign = DeliveryFactory(engagement__company=other_company)
    DeliveryAttemptFactory(delivery=foreign)
    assert uuids(action_engine_api.get(DELIVERIES)) == set()
    assert action_engine_api.get(f"{DELIVERIES}{foreign.uuid}/").status_code == 404
    assert action_engine_api.post(f"{DELIVERIES}{foreign.uuid}/replay").status_code == 404
    assert action_engine_api.get(DELIVERIES, {"workflow": str(foreign.workflow.uuid)}).json()["results"] == []


def test_deliveries_are_read_only(action_engine_api, company):
    delivery = DeliveryFactory(engagement__company=company)
    assert action_engine_api.post(DELIVERIES, {}, format="json").status_code == 405
    assert action_engine_api.delete(f"{DELIVERIES}{delivery.uuid}/").status_code == 405


def test_a_global_workflows_custom_header_values_never_reach_the_tenant(
    action_engine_api, action_company, sink, fast_retries, django_capture_on_commit_callbacks
):
    from tests.workflows.factories import ActionWorkflowFactory, WorkflowFactory

    platform = WorkflowFactory(
        company=None, config={"url": sink.url(), "headers": {"X-Internal-Key": "PLATFORM-SECRET", "X-Env": "prod"}}
    )
    ActionWorkflowFactory(action=action_company.action, workflow=platform)
    sink.script(Reply(500))  # a failed attempt, then a succeeded one: both are shown to the tenant
    with django_capture_on_commit_callbacks(execute=True):
        engagement = record_engagement(action_company)
    from workflows.services import deliveries_sweep

    deliveries_sweep()
    delivery = Delivery.objects.get(engagement=engagement, workflow=platform)
    assert delivery.company == action_company.company
    assert [r.headers["x-internal-key"] for r in sink.requests] == ["PLATFORM-SECRET"] * 2  # still sent

    response = action_engine_api.get(f"{DELIVERIES}{delivery.uuid}/")
    assert response.status_code == 200, response.content
    attempts = response.json()["attempts"]
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt["request_headers"]["X-Internal-Key"] == "[redacted]"
        assert attempt["request_headers"]["X-Env"] == "[redacted]"
    assert "PLATFORM-SECRET" not in response.content.decode()
    listed = action_engine_api.get(DELIVERIES)
    assert "PLATFORM-SECRET" not in listed.content.decode()
    # nor can the tenant open the global workflow (or its test mode, which shows exact values)
    assert action_engine_api.get(f"/v1/workflows/{platform.uuid}/").status_code == 404
    assert action_engine_api.post(f"/v1/workflows/{platform.uuid}/test/", {}, format="json").status_code == 404
