"""The slack and http kinds end to end: real deliveries through the attempt service to a sink on 127.0.0.1,
exact bodies, signatures checked by the standardwebhooks package, retries, dead and replay as for webhooks."""
import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.workflows.conftest import record_engagement
from tests.workflows.factories import ActionCompanyWorkflowFactory, WorkflowFactory
from tests.workflows.sink import Reply
from workflows.choices import DeliveryStatus, WorkflowKind
from workflows.kinds.base import REDACTED
from workflows.models import Delivery
from workflows.services import deliveries_sweep, delivery_replay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]

CRM_TEMPLATE = {
    "properties": {
        "email": "{{ data.lead.email }}",
        "firstname": "{{ data.lead.first_name }}",
        "lifecyclestage": "lead",
        "salesassist_stage": "{{ data.engagement.stage }}",
        "interest": "{{ data.message.answers.interest }}",
        "seats": "{{ data.message.answers.seats }}",
        "note": "{{ data.lead.first_name }} wants {{ data.message.answers.seats }} seats",
        "missing": "{{ data.message.nowhere }}",
    },
    "source": ["salesassist", "{{ data.company_action.action.slug }}"],
}
ANSWERS = {"answers": {"interest": "pricing", "seats": 12}}


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def attach(action_company, kind, config, **fields):
    workflow = WorkflowFactory(company=action_company.company, kind=kind, config=config, **fields)
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    return workflow


def fan_out(django_capture_on_commit_callbacks, action_company, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return record_engagement(action_company, **kwargs)


def test_a_slack_message_is_rendered_from_the_event(action_company, sink, django_capture_on_commit_callbacks):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*{{ data.lead.email }}*: {{ data.message }}"}}]
    config = {"url": sink.url("/services/T000/B000/XXXX"), "text": "{{ data.lead.first_name }} is in", "blocks": blocks}
    attach(action_company, WorkflowKind.SLACK, config, secret="")

    engagement = fan_out(django_capture_on_commit_callbacks, action_company, body=ANSWERS)

    (received,) = sink.wait_for(1)
    lead = engagement.lead
    assert received.method == "POST" and received.path == "/services/T000/B000/XXXX"
    assert received.body == compact(
        {
            "text": f"{lead.first_name} is in",
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f'*{lead.email}*: {{"answers": {{"interest": "pricing", "seats": 12}}}}',
                    },
                }
            ],
        }
    )
    assert received.headers["content-type"] == "application/json"
    assert "webhook-signature" not in received.headers  # Slack checks nothing but its URL
    attempt = Delivery.objects.get(engagement=engagement).attempt_log.get()
    assert attempt.succeeded
    assert attempt.request_url == f"http://127.0.0.1:{sink.port}/{REDACTED}"  # the URL's path is the credential
    assert attempt.request_body.encode() == received.body


def test_an_http_template_is_sent_in_the_targets_shape_and_signed(
    action_company, sink, django_capture_on_commit_callbacks
):
    config = {
        "url": sink.url("/crm/v3/contacts"),
        "method": "PUT",
        "headers": {"Authorization": "Bearer crm-token", "X-Portal": "42"},
        "template": CRM_TEMPLATE,
    }
    workflow = attach(action_company, WorkflowKind.HTTP, config)

    engagement = fan_out(django_capture_on_commit_callbacks, action_company, body=ANSWERS)

    (received,) = sink.wait_for(1)
    lead = engagement.lead
    expected = {
        "properties": {
            "email": lead.email,
            "firstname": lead.first_name,
            "lifecyclestage": "lead",
            "salesassist_stage": "submitted",
            "interest": "pricing",
            "seats": 12,
            "note": f"{lead.first_name} wants 12 seats",
            "missing": None,
        },
        "source": ["salesassist", action_company.action.slug],
    }
    assert received.method == "PUT" and received.path == "/crm/v3/contacts"
    assert received.body == compact(expected)
    assert Webhook(workflow.secret).verify(received.body, received.headers) == expected
    delivery = Delivery.objects.get(engagement=engagement)
    assert received.headers["webhook-id"] == f"msg_{delivery.uuid.hex}"
    assert received.headers["authorization"] == "Bearer crm-token" and received.headers["x-portal"] == "42"
    attempt = delivery.attempt_log.get()
    assert attempt.request_headers["Authorization"] == REDACTED and attempt.request_headers["X-Portal"] == REDACTED
    assert attempt.request_body.encode() == received.body


def test_http_retries_goes_dead_and_is_replayed_with_the_same_id(
    action_company, sink, fast_retries, django_capture_on_commit_callbacks
):
    config = {"url": sink.url(), "template": {"e": "{{ data.lead.email }}"}}
    workflow = attach(action_company, WorkflowKind.HTTP, config)
    sink.script(Reply(500), Reply(503), Reply(502))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    for _ in range(5):
        if not deliveries_sweep():
            break
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 3

    attempt = delivery_replay(delivery=delivery)

    assert attempt.succeeded and attempt.is_manual
    received = sink.wait_for(4)
    assert [request.status for request in received] == [500, 503, 502, 200]
    assert len({request.headers["webhook-id"] for request in received}) == 1
    for request in received:
        assert request.body == compact({"e": engagement.lead.email})
        Webhook(workflow.secret).verify(request.body, request.headers)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_a_slack_answer_of_410_disables_the_workflow(action_company, sink, django_capture_on_commit_callbacks):
    workflow = attach(action_company, WorkflowKind.SLACK, {"url": sink.url(), "text": "hi"}, secret="")
    sink.script(Reply(410, body=b"no_service"))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)

    assert Delivery.objects.get(engagement=engagement).status == DeliveryStatus.DEAD
    workflow.refresh_from_db()
    assert not workflow.is_active
