"""Slack and http workflows through the API: config problems per field at save, secrets, test mode's rendered
request."""
import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.workflows.sink import Reply
from workflows.models import Delivery, DeliveryAttempt, Workflow

pytestmark = pytest.mark.django_db

WORKFLOWS = "/v1/workflows/"
PUBLIC = "https://93.184.216.34/hook"


@pytest.mark.parametrize(
    "config, errors",
    [
        (
            {"url": PUBLIC, "template": {"email": "{{ data..email }}", "list": ["ok", "{{ }}"], "n": "{{ a"}},
            ["config.template.email", "config.template.list.1", "config.template.n"],
        ),
        ({"url": PUBLIC, "template": {"a": "{{ a b }}"}, "method": "GET"}, ["config.template.a", "config.method"]),
        ({"url": "http://127.0.0.1/hook", "template": {}}, ["config.url"]),
        (
            {"url": "http://169.254.169.254/latest", "template": {}, "headers": {"Host": "x"}},
            ["config.url", "config.headers.Host"],
        ),
        ({"url": PUBLIC}, ["config.template"]),
        ({"url": PUBLIC, "template": {}, "body": {}}, ["config"]),
    ],
)
def test_invalid_http_configs_are_400_with_a_problem_per_field(action_engine_api, settings, config, errors):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    response = action_engine_api.post(WORKFLOWS, {"name": "CRM", "kind": "http", "config": config}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert sorted(response.json()["errors"]) == sorted(errors)
    assert not Workflow.objects.exists()


@pytest.mark.parametrize(
    "config, errors",
    [
        ({"url": PUBLIC, "text": "{{ data.lead.email"}, ["config.text"]),
        ({"url": PUBLIC, "text": ""}, ["config.text"]),
        ({"url": PUBLIC, "blocks": [{"text": "{{ x..y }}"}]}, ["config.blocks.0.text"]),
        ({"url": PUBLIC, "blocks": "not a list"}, ["config.blocks"]),
        ({"url": "http://10.0.0.1/services/x"}, ["config.url"]),
    ],
)
def test_invalid_slack_configs_are_400_with_a_problem_per_field(action_engine_api, settings, config, errors):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    response = action_engine_api.post(WORKFLOWS, {"name": "Ops", "kind": "slack", "config": config}, format="json")
    assert response.status_code == 400, response.content
    assert sorted(response.json()["errors"]) == sorted(errors)


def test_an_http_workflow_gets_a_secret_and_a_slack_one_none(action_engine_api, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    http = action_engine_api.post(
        WORKFLOWS, {"name": "CRM", "kind": "http", "config": {"url": PUBLIC, "template": ["$"]}}, format="json"
    )
    assert http.status_code == 201, http.content
    assert http.json()["secret"].startswith("whsec_")
    assert http.json()["config"] == {"url": PUBLIC, "method": "POST", "headers": {}, "template": ["$"]}
    slack = action_engine_api.post(
        WORKFLOWS, {"name": "Ops", "kind": "slack", "config": {"url": PUBLIC, "text": "hi"}}, format="json"
    )
    assert slack.status_code == 201, slack.content
    assert slack.json()["secret"] is None
    rotated = action_engine_api.post(f"{WORKFLOWS}{slack.json()['uuid']}/rotate-secret")
    assert rotated.status_code == 400 and "kind" in rotated.json()["errors"]


def test_http_test_mode_shows_the_rendered_request_with_credentials_redacted(action_engine_api, sink):
    config = {
        "url": sink.url("/contacts"),
        "method": "PATCH",
        "headers": {"Authorization": "Bearer crm-token", "X-Portal": "42"},
        "template": {
            "email": "{{ data.lead.email }}",
            "stage": "{{ data.engagement.stage }}",
            "answers": "{{ data.message }}",
        },
    }
    body = {"name": "CRM", "kind": "http", "config": config}
    created = action_engine_api.post(WORKFLOWS, body, format="json").json()
    sink.script(Reply(200, body=b'{"id": 7}'))

    result = action_engine_api.post(f"{WORKFLOWS}{created['uuid']}/test", {"stage": "opened"}, format="json").json()

    (received,) = sink.requests
    request = result["request"]
    assert result["succeeded"] is True and result["response"]["body"] == '{"id": 7}'
    assert request["method"] == "PATCH" == received.method and request["url"] == sink.url("/contacts")
    assert json.loads(request["body"]) == {
        "email": "sam.sample@example.com",
        "stage": "opened",
        "answers": {"data": {"email": "sam.sample@example.com"}},
    }
    assert request["body"].encode() == received.body
    assert request["headers"]["Authorization"] == "[redacted]"
    assert received.headers["authorization"] == "Bearer crm-token"
    assert request["headers"]["X-Portal"] == "42"
    assert request["headers"]["webhook-signature"] == received.headers["webhook-signature"]
    Webhook(created["secret"]).verify(received.body, received.headers)
    assert not Delivery.objects.exists() and not DeliveryAttempt.objects.exists()


def test_slack_test_mode_hides_the_webhook_path(action_engine_api, sink):
    config = {"url": sink.url("/services/T1/B2/secret"), "text": "{{ data.lead.first_name }} {{ type }}"}
    body = {"name": "Ops", "kind": "slack", "config": config}
    created = action_engine_api.post(WORKFLOWS, body, format="json").json()

    result = action_engine_api.post(f"{WORKFLOWS}{created['uuid']}/test", format="json").json()

    (received,) = sink.requests
    assert received.path == "/services/T1/B2/secret"
    assert result["request"]["url"] == f"http://127.0.0.1:{sink.port}/[redacted]"
    assert result["request"]["body"] == '{"text":"Sam engagement.submitted"}'
