"""Every event type, really sent: the domain emits it, the outbox writes the delivery, the attempt service signs
and posts it to a real HTTP sink, and the body received validates against the action-engine host's published
OpenAPI 3.1 webhook schema. Then the rules of the events themselves: who subscribes, what a body keeps."""
import json
from datetime import datetime

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from standardwebhooks.webhooks import Webhook

from action_engine.choices import Stage
from crm.events import lead_erased
from crm.services import lead_create, lead_unsubscribe, lead_unsubscribe_token, lead_update
from tests.action_engine.factories import ActionCompanyFactory
from tests.crm.factories import LeadFactory, LeadReceiverFactory
from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.factories import WorkflowFactory
from tests.workflows.sink import Reply, Sink
from workflows.choices import DeliveryStatus, WorkflowEvent
from workflows.event_types import DELIVERY_DEAD, EVENT_TYPES, LEAD_CREATED, LEAD_ERASED, LEAD_UPDATED
from workflows.models import Delivery
from workflows.services import deliveries_attempt, workflow_test, workflow_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@pytest.fixture
def published_webhooks(action_engine_api):
    """The webhooks of the schema the action-engine host serves, by event type."""
    response = action_engine_api.get("/v1/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"] == "3.1.0"
    return {name: item["post"] for name, item in schema["webhooks"].items()}


def assert_valid(webhooks: dict, body: dict) -> None:
    operation = webhooks[body["type"]]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    Draft202012Validator(schema, format_checker=FORMATS).validate(body)


def every_event(company, action_company, sink, **fields):
    return attach_webhook(action_company, sink.url("/all"), events=list(WorkflowEvent.values), **fields)


def received_bodies(workflow, sink, count: int) -> list[dict]:
    """What the sink received, each verified with the standardwebhooks package and the workflow's secret."""
    return [Webhook(workflow.secret).verify(request.body, request.headers) for request in sink.wait_for(count)]


def test_every_event_type_sent_validates_against_the_published_schema(
    company, action_company, sink, published_webhooks, settings, django_capture_on_commit_callbacks
):
    settings.WORKFLOW_RETRY_SCHEDULE = []  # the first failure is a death
    listener = every_event(company, action_company, sink)
    refusing = Sink()
    refusing.default = Reply(503)
    failing = attach_webhook(action_company, refusing.url(), events=[WorkflowEvent.LEAD_ERASED])
    with django_capture_on_commit_callbacks(execute=True):
        for stage in Stage.values:
            record_engagement(action_company, stage=stage)
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(company=company, first_name="Ada", email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, last_name="Lovelace", status="contacted")
    with django_capture_on_commit_callbacks(execute=True):
        lead_erased.emit(lead=lead, erased_at=timezone.now())

    try:
        (refused,) = refusing.wait_for(1)
    finally:
        refusing.close()
    bodies = {}
    for workflow, request in [(failing, refused), *[(listener, request) for request in sink.wait_for(9)]]:
        body = Webhook(workflow.secret).verify(request.body, request.headers)
        assert_valid(published_webhooks, body)
        bodies.setdefault(body["type"], body)
    assert set(bodies) == set(EVENT_TYPES)
    assert bodies[LEAD_CREATED]["data"]["changed"] == ["first_name", "email", "status"]
    assert bodies[LEAD_UPDATED]["data"]["changed"] == ["last_name", "status"]
    assert bodies[LEAD_ERASED]["data"] == {
        "lead": {"uuid": str(lead.uuid)},
        "erased_at": bodies[LEAD_ERASED]["timestamp"],
    }
    dead = bodies[DELIVERY_DEAD]["data"]
    assert dead["workflow"]["uuid"] == str(failing.uuid) and dead["delivery"]["event_type"] == LEAD_ERASED
    assert Delivery.objects.get(uuid=dead["delivery"]["uuid"]).status == DeliveryStatus.DEAD


def test_a_workflow_as_it_was_before_events_receives_engagements_only(
    company, action_company, sink, django_capture_on_commit_callbacks
):
    workflow = attach_webhook(action_company, sink.url())
    assert workflow.events == [WorkflowEvent.ENGAGEMENT]
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(company=company, email="new@example.com")
        lead_update(lead=lead, first_name="New")
        lead_erased.emit(lead=lead, erased_at=timezone.now())
        record_engagement(action_company, stage=Stage.OPENED)
    (body,) = received_bodies(workflow, sink, 1)
    assert body["type"] == "engagement.opened"
    assert Delivery.objects.count() == 1


def test_a_lead_workflow_gets_no_engagements_and_stages_filter_engagements_only(company, action_company, sink):
    leads_only = attach_webhook(action_company, sink.url(), events=[WorkflowEvent.LEAD_CREATED], stages=["opened"])
    record_engagement(action_company, stage=Stage.OPENED)
    assert not Delivery.objects.exists()
    lead = lead_create(company=company, email="x@example.com")
    assert list(Delivery.objects.values_list("workflow", "event_type", "lead", "engagement")) == [
        (leads_only.pk, LEAD_CREATED, lead.pk, None)
    ]


def test_lead_events_reach_only_the_company_own_workflows(company, other_company, action_company):
    own = WorkflowFactory(company=company, events=[WorkflowEvent.LEAD_CREATED])
    WorkflowFactory(company=other_company, events=[WorkflowEvent.LEAD_CREATED])
    WorkflowFactory(company=None, events=[WorkflowEvent.LEAD_CREATED])
    WorkflowFactory(company=company, events=[WorkflowEvent.LEAD_CREATED], is_active=False)
    lead_create(company=company, email="y@example.com")
    assert list(Delivery.objects.values_list("workflow", flat=True)) == [own.pk]


def test_a_workflow_made_or_stopped_is_seen_by_the_next_lead_event(company):
    lead_create(company=company, email="first@example.com")  # the company's lead.created workflows: none, cached
    workflow = WorkflowFactory(company=company, events=[WorkflowEvent.LEAD_CREATED])
    lead_create(company=company, email="second@example.com")
    assert Delivery.objects.filter(workflow=workflow).count() == 1
    workflow_update(workflow=workflow, is_active=False)
    lead_create(company=company, email="third@example.com")
    assert Delivery.objects.filter(workflow=workflow).count() == 1


def test_an_update_that_changes_nothing_is_no_event_and_names_only_what_changed(company):
    WorkflowFactory(company=company, events=[WorkflowEvent.LEAD_UPDATED])
    lead = LeadFactory(company=company, first_name="Same", email="same@example.com")
    lead_update(lead=lead, first_name="Same", email="same@example.com")
    assert not Delivery.objects.exists()
    lead_update(lead=lead, first_name="Other", email="same@example.com", custom_fields={"tier": "gold"})
    delivery = Delivery.objects.get()
    assert delivery.payload["data"]["changed"] == ["first_name", "custom_fields"]
    assert "gold" not in json.dumps(delivery.payload["data"]["changed"])


def test_the_body_is_the_lead_when_the_event_happened(company, action_company, sink):
    workflow = every_event(company, action_company, sink)
    # Nothing commits in this test, so nothing is queued: the delivery is attempted below, after the change.
    lead = lead_create(company=company, first_name="Before", email="snap@example.com")
    lead_update(lead=lead, first_name="After")
    delivery = Delivery.objects.get(event_type=LEAD_CREATED)
    deliveries_attempt(delivery_ids=[delivery.pk])
    (body,) = received_bodies(workflow, sink, 1)
    assert body["data"]["lead"]["first_name"] == "Before"


def test_a_lead_receiver_emits_lead_created_then_lead_updated(company, crm_api):
    WorkflowFactory(company=company, events=[WorkflowEvent.LEAD_CREATED, WorkflowEvent.LEAD_UPDATED])
    receiver = LeadReceiverFactory(company=company, source="web")
    url = f"/v1/receivers/{receiver.uuid}/leads"
    assert crm_api.post(url, {"contact": {"email": "in@example.com"}}, format="json").status_code == 201
    second = crm_api.post(url, {"contact": {"email": "in@example.com", "name": "In"}}, format="json")
    assert second.status_code in (200, 201)
    assert [
        (delivery.event_type, delivery.payload["data"]["changed"])
        for delivery in Delivery.objects.order_by("id")
    ] == [(LEAD_CREATED, ["email", "status", "source"]), (LEAD_UPDATED, ["first_name"])]


def test_an_unsubscribe_is_a_lead_update_sent_once(company, action_company, sink, published_webhooks):
    workflow = every_event(company, action_company, sink)
    lead = LeadFactory(company=company, email="leaving@example.com")
    token = lead_unsubscribe_token(lead=lead)
    lead_unsubscribe(lead_uuid=lead.uuid, token=token)
    lead_unsubscribe(lead_uuid=lead.uuid, token=token)  # the second click changes nothing: no event
    delivery = Delivery.objects.get(event_type=LEAD_UPDATED)
    deliveries_attempt(delivery_ids=[delivery.pk])
    (body,) = received_bodies(workflow, sink, 1)
    assert body["data"]["changed"] == ["unsubscribed_at"]
    assert body["data"]["lead"]["unsubscribed_at"] is not None
    assert_valid(published_webhooks, body)


def test_a_dead_delivery_tells_the_other_subscribers_and_a_dead_notice_tells_nobody(
    company, action_company, sink, settings, django_capture_on_commit_callbacks
):
    settings.WORKFLOW_RETRY_SCHEDULE = []
    sink.default = Reply(500)
    first = attach_webhook(action_company, sink.url("/first"), events=[WorkflowEvent.ENGAGEMENT, DELIVERY_DEAD])
    second = WorkflowFactory(company=company, config={"url": sink.url("/second")}, events=[DELIVERY_DEAD])
    with django_capture_on_commit_callbacks(execute=True):
        record_engagement(action_company, stage=Stage.SUBMITTED)
    sink.wait_for(2)
    # The engagement's delivery died: only the other workflow got (and failed) the notice, which sent nothing more.
    assert sorted(Delivery.objects.values_list("workflow", "event_type", "status")) == sorted(
        [
            (first.pk, "engagement.submitted", DeliveryStatus.DEAD),
            (second.pk, DELIVERY_DEAD, DeliveryStatus.DEAD),
        ]
    )


def test_test_mode_sends_a_sample_of_any_event_type(company, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()}, events=[WorkflowEvent.LEAD_UPDATED])
    outcome = workflow_test(workflow=workflow)
    assert outcome.succeeded
    (body,) = received_bodies(workflow, sink, 1)
    assert body["type"] == LEAD_UPDATED
    workflow_test(workflow=workflow, event_type=DELIVERY_DEAD)
    assert received_bodies(workflow, sink, 2)[1]["type"] == DELIVERY_DEAD


def test_the_deliveries_api_lists_filters_and_replays_a_lead_event(company, action_engine_api, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()}, events=[WorkflowEvent.LEAD_CREATED])
    lead = lead_create(company=company, email="api@example.com")
    record_engagement(ActionCompanyFactory(company=company))  # an engagement delivery to no workflow: none
    listed = action_engine_api.get("/v1/deliveries/", {"event_type": LEAD_CREATED})
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert (row["workflow"], row["event_type"], row["lead"], row["engagement"]) == (
        str(workflow.uuid), LEAD_CREATED, str(lead.uuid), None
    )
    assert action_engine_api.get("/v1/deliveries/", {"lead": str(lead.uuid)}).json()["results"] == [row]
    replayed = action_engine_api.post(f"/v1/deliveries/{row['uuid']}/replay")
    assert replayed.status_code == 200 and replayed.json()["attempts"][-1]["succeeded"]
    (body,) = received_bodies(workflow, sink, 1)
    assert body["type"] == LEAD_CREATED and body["data"]["lead"]["email"] == "api@example.com"


def test_a_test_send_with_an_event_type_and_a_stage_samples_the_event_type(company, action_engine_api, sink):
    workflow = WorkflowFactory(company=company, config={"url": sink.url()})
    answer = action_engine_api.post(
        f"/v1/workflows/{workflow.uuid}/test/", {"stage": "purchased", "event_type": LEAD_CREATED}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["succeeded"]
    (body,) = received_bodies(workflow, sink, 1)
    assert body["type"] == LEAD_CREATED
