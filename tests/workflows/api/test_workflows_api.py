"""The pinned workflows interface on api.action-engine: CRUD, secret shown once, rotation, recovery, test mode."""
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conftest import host_client
from salesassist.hosts import ACTION_ENGINE_API
from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.factories import WorkflowFactory
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus
from workflows.models import Delivery, DeliveryAttempt, Workflow
from workflows.services import deliveries_sweep

pytestmark = pytest.mark.django_db

WORKFLOWS = "/v1/workflows/"


def webhook_body(url, **extra):
    return {"name": "CRM sync", "kind": "webhook", "config": {"url": url}, "stages": ["submitted"], **extra}


def test_create_returns_the_secret_once(action_engine_api, sink, company):
    response = action_engine_api.post(
        WORKFLOWS,
        webhook_body(sink.url(), config={"url": sink.url(), "headers": {"X-Team": "sales"}}),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["kind"] == "webhook" and body["stages"] == ["submitted"]
    assert body["config"] == {"url": sink.url(), "headers": {"X-Team": "sales"}}
    workflow = Workflow.objects.get(uuid=body["uuid"])
    assert workflow.company == company and workflow.secret == body["secret"]

    shown = action_engine_api.get(f"{WORKFLOWS}{body['uuid']}/").json()
    assert "secret" not in shown and body["secret"] not in str(shown)
    listed = action_engine_api.get(WORKFLOWS).json()
    assert body["secret"] not in str(listed)
    assert [w["uuid"] for w in listed["results"]] == [body["uuid"]]


def test_update_and_soft_delete(action_engine_api, sink, company):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()})
    url = f"{WORKFLOWS}{workflow.uuid}"
    response = action_engine_api.patch(url, {"name": "Renamed", "stages": ["opened", "submitted"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert action_engine_api.patch(url, {"kind": "email"}, format="json").status_code == 400
    assert action_engine_api.delete(url).status_code == 204
    assert action_engine_api.get(url).status_code == 404
    assert Workflow.all_objects.get(pk=workflow.pk).deleted_at is not None


def test_setting_active_again_lifts_a_pause(action_engine_api, company, sink):
    workflow = WorkflowFactory(
        company=company, config={"url": sink.url()}, paused_at=timezone.now(), pause_reason="Paused: failing"
    )
    response = action_engine_api.patch(f"{WORKFLOWS}{workflow.uuid}/", {"is_active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["paused_at"] is None and response.json()["pause_reason"] == ""


@pytest.mark.parametrize(
    "body, field",
    [
        (webhook_body("ftp://example.com/x"), "config.url"),
        (webhook_body("http://127.0.0.1:8080/hook"), "config.url"),
        (webhook_body("http://localhost/hook"), "config.url"),
        (webhook_body("http://169.254.169.254/latest/meta-data/"), "config.url"),
        (webhook_body("https://user:pw@93.184.216.34/"), "config.url"),
        (webhook_body("https://93.184.216.34/", config={"url": "https://93.184.216.34/", "headers": {"webhook-id": "x"}}), "config.headers.webhook-id"),
        (webhook_body("https://93.184.216.34/", stages=["nope"]), "stages.0"),
        (webhook_body("https://93.184.216.34/", conditions=[{"field": "lead.email", "op": "equals", "value": 1}]), "conditions.0.field"),
        (webhook_body("https://93.184.216.34/", conditions=[{"field": "stage", "op": "like", "value": 1}]), "conditions.0.op"),
        ({"name": "x", "kind": "sms", "config": {}}, "kind"),
        ({"name": "x", "kind": "email", "config": {"recipients": ["not-an-address"]}}, "config.recipients.0"),
        ({"name": "x", "kind": "email", "config": {"recipients": []}}, "config.recipients"),
        ({"name": "w", "kind": "email", "config": {"recipients": [["@"]]}}, "config.recipients.0"),
        ({"name": "w", "kind": "webhook", "config": {"url": "https://93.184.216.34/", "headers": {"X-Name": "café"}}},
         "config.headers.X-Name"),
        ({"name": "w", "kind": "webhook", "config": {"url": "https://93.184.216.34/", "headers": {"X-Bell": "a\x07"}}},
         "config.headers.X-Bell"),
        ({"name": "w", "kind": "email", "config": {"recipients": [{"a@b.co": 1}]}}, "config.recipients.0"),
        ({"name": "w", "kind": "email", "config": {"recipients": ["ops@acme.com", 5]}}, "config.recipients.1"),
    ],
)
def test_invalid_workflows_are_400_field_errors(action_engine_api, settings, body, field):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    response = action_engine_api.post(WORKFLOWS, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"], response.json()
    assert not Workflow.objects.exists()


def test_a_public_address_is_accepted_without_a_connection(action_engine_api, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    response = action_engine_api.post(WORKFLOWS, webhook_body("https://93.184.216.34/hooks?x=1"), format="json")
    assert response.status_code == 201, response.content


def test_email_workflow_has_no_secret(action_engine_api):
    body = {"name": "Tell the owner", "kind": "email", "config": {"recipients": ["lead_owner", "ops@example.com"]}}
    response = action_engine_api.post(WORKFLOWS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["secret"] is None


def test_read_only_key_cannot_create(read_only_key, sink):
    client = host_client(ACTION_ENGINE_API, read_only_key.token)
    assert client.post(WORKFLOWS, webhook_body(sink.url()), format="json").status_code == 403
    assert client.get(WORKFLOWS).status_code == 200


def test_another_companys_workflow_is_404_everywhere(action_engine_api, other_company, sink):
    foreign = WorkflowFactory(company=other_company, config={"url": sink.url()})
    base = f"{WORKFLOWS}{foreign.uuid}/"
    assert action_engine_api.get(base).status_code == 404
    assert action_engine_api.patch(base, {"name": "mine"}, format="json").status_code == 404
    assert action_engine_api.delete(base).status_code == 404
    for suffix, body in (("rotate-secret", None), ("recover", {"since": "2020-01-01T00:00:00Z"}), ("test", {})):
        assert action_engine_api.post(f"{base}{suffix}", body, format="json").status_code == 404
    assert action_engine_api.get(WORKFLOWS).json()["results"] == []
    assert sink.requests == []


def test_rotation_signs_with_both_secrets_during_the_overlap(action_engine_api, company, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()})
    old_secret = workflow.secret
    response = action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/rotate-secret")
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret

    assert action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/test", {}, format="json").json()["succeeded"]
    (request,) = sink.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(new_secret).verify(request.body, request.headers)

    # after the overlap only the new secret signs
    Workflow.objects.filter(pk=workflow.pk).update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/test", {}, format="json")
    later = sink.requests[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later.body, later.headers)


def test_test_mode_returns_the_exact_request_and_response(action_engine_api, company, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url(), "headers": {"X-Team": "sales"}})
    sink.script(Reply(202, headers={"X-Receiver": "yes"}, body=b'{"accepted": true}'))

    response = action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/test", {"stage": "purchased"}, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    (received,) = sink.requests
    assert result["succeeded"] is True and result["error"] is None
    assert result["request"]["url"] == sink.url() and result["request"]["method"] == "POST"
    assert result["request"]["body"].encode() == received.body
    assert result["request"]["headers"]["webhook-signature"] == received.headers["webhook-signature"]
    assert result["request"]["headers"]["X-Team"] == received.headers["x-team"] == "sales"
    assert result["response"]["status"] == 202
    assert result["response"]["body"] == '{"accepted": true}'
    assert result["response"]["headers"]["x-receiver"] == "yes"
    payload = Webhook(workflow.secret).verify(received.body, received.headers)
    assert payload["type"] == "engagement.purchased"
    assert not Delivery.objects.exists() and not DeliveryAttempt.objects.exists()


def test_test_mode_reports_a_failure(action_engine_api, company, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()})
    sink.script(Reply(500, body=b"boom"))
    result = action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/test", format="json").json()
    assert result["succeeded"] is False
    assert result["error"]["error_class"] == "http_status"
    assert result["response"]["status"] == 500 and result["response"]["body"] == "boom"


@pytest.mark.usefixtures("q_sync")
def test_recover_replays_failed_and_dead_deliveries_since_a_time(
    action_engine_api, action_company, sink, fast_retries, django_capture_on_commit_callbacks
):
    workflow = attach_webhook(action_company, sink.url())
    sink.default = Reply(500)
    with django_capture_on_commit_callbacks(execute=True):
        old = record_engagement(action_company)
    Delivery.objects.filter(engagement=old).update(created_at=timezone.now() - timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        recent = [record_engagement(action_company) for _ in range(2)]
    while deliveries_sweep():
        pass
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DEAD}
    sink.default = Reply(200)

    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/recover", {"since": since}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["queued"] == 2
    statuses = dict(Delivery.objects.values_list("engagement_id", "status"))
    assert statuses == {old.pk: DeliveryStatus.DEAD, **{e.pk: DeliveryStatus.SUCCEEDED for e in recent}}
    assert DeliveryAttempt.objects.filter(succeeded=True, is_manual=True).count() == 2
    assert action_engine_api.post(f"{WORKFLOWS}{workflow.uuid}/recover", {}, format="json").status_code == 400
