"""Recording engagements: furthest stage, visitors, idempotency (also truly concurrent), fan-out in one transaction."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework import serializers

from action_engine.api.public_serializers import EngagementRecordedSerializer
from action_engine.choices import Stage
from action_engine.events import engagement_recorded
from action_engine.models import Engagement, LeadActionState, Message
from action_engine.services import engagement_record
from crm.models import Visitor
from salesassist.core.exceptions import Conflict, Unprocessable
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    post_at_once,
    public_api,
)
from tests.crm.factories import CompanyFactory, LeadFactory
from tests.workflows.factories import ActionCompanyWorkflowFactory
from workflows.models import Delivery

FORM_RESULT = {"data": {"email": "ada@example.com"}}


@pytest.mark.django_db
def test_a_stage_behind_the_furthest_is_recorded_without_moving_back(forms_action, lead):
    visitor = uuid.uuid4()
    submitted = engagement_record(
        action_company=forms_action, lead=lead, stage=Stage.SUBMITTED, message=FORM_RESULT, visitor_uuid=visitor
    )
    assert (submitted.engagement.previous_stage, submitted.current_stage) == ("", Stage.SUBMITTED)
    opened = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=visitor)
    assert opened.engagement.stage == Stage.OPENED
    assert opened.engagement.previous_stage == Stage.SUBMITTED
    assert opened.current_stage == Stage.SUBMITTED
    assert Engagement.objects.filter(lead=lead).count() == 2


@pytest.mark.django_db
def test_a_new_visitor_is_created_and_linked_to_the_lead(public_api, forms_action, lead):
    visitor = uuid.uuid4()
    response = public_api.post(
        ENGAGEMENTS_URL,
        engagement_body(forms_action, lead, visitor, "opened"),
        format="json",
        HTTP_USER_AGENT="Agent/1",
    )
    assert response.status_code == 201
    created = Visitor.objects.get(uuid=visitor)
    assert (created.lead, created.company, created.user_agent) == (lead, lead.company, "Agent/1")
    assert created.first_seen_at is not None


@pytest.mark.django_db
def test_an_unlinked_visitor_of_the_company_gets_linked(public_api, company, forms_action, lead):
    visitor = Visitor.objects.create(company=company)
    response = public_api.post(
        ENGAGEMENTS_URL, engagement_body(forms_action, lead, visitor.uuid, "opened"), format="json"
    )
    assert response.status_code == 201
    visitor.refresh_from_db()
    assert visitor.lead == lead


@pytest.mark.django_db
def test_a_known_visitor_is_touched_at_most_once_a_minute_and_keeps_what_it_has(
    public_api, company, forms_action, lead
):
    long_ago = timezone.now() - timedelta(hours=1)
    visitor = Visitor.objects.create(company=company, user_agent="", first_seen_at=None, last_seen_at=long_ago)
    Visitor.objects.filter(pk=visitor.pk).update(updated_at=long_ago)

    def post(stage, agent):
        body = engagement_body(forms_action, lead, visitor.uuid, stage, FORM_RESULT if stage == "submitted" else None)
        assert public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_USER_AGENT=agent).status_code == 201
        visitor.refresh_from_db()

    post("sent", "Agent/1")
    touched = visitor.last_seen_at
    assert (visitor.lead, visitor.user_agent) == (lead, "Agent/1")
    assert visitor.first_seen_at == touched and touched > long_ago and visitor.updated_at == touched
    # Seconds later: nothing to change, so nothing moves (the agent it has is kept).
    post("opened", "Agent/2")
    assert (visitor.last_seen_at, visitor.updated_at, visitor.user_agent) == (touched, touched, "Agent/1")
    # A minute later it is seen again.
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=touched - timedelta(minutes=2))
    post("submitted", "Agent/2")
    assert visitor.last_seen_at > touched and visitor.updated_at == visitor.last_seen_at
    assert (visitor.first_seen_at, visitor.user_agent) == (touched, "Agent/1")


@pytest.mark.django_db
def test_an_engagement_takes_a_fixed_set_of_statements(public_api, forms_action, lead, django_assert_num_queries):
    """The hot path, counted: a new statement shows up here first (bench/engagements.py measures the cost)."""
    # The lead, read with the configuration version (the action, its modules and its workflows are cached per
    # process); then a transaction (its start and end count here) of the upsert of the lead's state on the
    # action (which locks it and says whether this keyless request repeats one of seconds ago), and one
    # statement of the visitor's upsert (created or linked and touched), the message and the engagement. SQLite
    # runs those three one by one and then links the state.
    statements = 8 if connection.vendor == "sqlite" else 5
    # One engagement first, so that this process has the action's configuration cached.
    public_api.post(ENGAGEMENTS_URL, engagement_body(forms_action, lead, uuid.uuid4(), "sent"), format="json")
    # Then a new visitor's first engagement, which creates it: no statement more than a known visitor's.
    visitor = uuid.uuid4()
    with django_assert_num_queries(statements):
        first = public_api.post(ENGAGEMENTS_URL, engagement_body(forms_action, lead, visitor, "sent"), format="json")
    assert first.status_code == 201
    with django_assert_num_queries(statements):
        opened = public_api.post(ENGAGEMENTS_URL, engagement_body(forms_action, lead, visitor, "opened"), format="json")
    assert opened.status_code == 201
    # A form result is validated against the cached form: no statement more.
    with django_assert_num_queries(statements):
        submitted = public_api.post(
            ENGAGEMENTS_URL, engagement_body(forms_action, lead, visitor, "submitted", FORM_RESULT), format="json"
        )
    assert submitted.status_code == 201
    assert Visitor.objects.get(uuid=visitor).lead == lead


@pytest.mark.django_db
def test_the_written_out_answer_is_the_one_drf_would_give_field_by_field(forms_action, lead):
    visitor = uuid.uuid4()
    with_visitor = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=visitor)
    without_visitor = engagement_record(action_company=forms_action, lead=lead, stage=Stage.SENT)
    replayed = engagement_record(action_company=forms_action, lead=lead, stage=Stage.SENT)
    assert replayed.replayed and without_visitor.engagement.visitor_id is None
    for recorded in (with_visitor, without_visitor, replayed):
        serializer = EngagementRecordedSerializer(recorded)
        assert serializer.data == serializers.Serializer.to_representation(serializer, recorded)


@pytest.mark.django_db
def test_the_same_idempotency_key_records_once_and_answers_the_same(public_api, forms_action, lead):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "submitted", FORM_RESULT)
    first = public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="click-1")
    second = public_api.post(ENGAGEMENTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="click-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Engagement.objects.count() == 1 and Message.objects.count() == 1


@pytest.mark.django_db
def test_submission_id_in_the_body_works_like_the_header(public_api, forms_action, lead):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "submitted", FORM_RESULT, submission_id="sub-1")
    first = public_api.post(ENGAGEMENTS_URL, body, format="json")
    second = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert first.json() == second.json()
    assert Engagement.objects.count() == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_engagement_is_refused(public_api, forms_action, lead):
    visitor = uuid.uuid4()
    opened = engagement_body(forms_action, lead, visitor, "opened")
    assert public_api.post(ENGAGEMENTS_URL, opened, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    submitted = engagement_body(forms_action, lead, visitor, "submitted", FORM_RESULT)
    response = public_api.post(ENGAGEMENTS_URL, submitted, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["type"].endswith("idempotency_key_mismatch")
    assert Engagement.objects.count() == 1


@pytest.mark.django_db
def test_a_row_recorded_before_fingerprints_replays_on_what_it_says(forms_action, lead):
    first = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, idempotency_key="old")
    Engagement.objects.update(request_fingerprint="")
    # Its fingerprint would differ (another visitor), but the row can only say action, lead and stage.
    again = engagement_record(
        action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=uuid.uuid4(), idempotency_key="old"
    )
    assert again.replayed and again.engagement == first.engagement
    with pytest.raises(Unprocessable):
        engagement_record(action_company=forms_action, lead=lead, stage=Stage.SENT, idempotency_key="old")


@pytest.mark.django_db
def test_the_fingerprint_ignores_how_the_message_is_spelled(forms_action, lead):
    spelled = {"data": {"email": "ada@example.com", "name": "Ada"}}
    respelled = {"data": {"name": "Ada", "email": "ada@example.com"}}
    first = engagement_record(action_company=forms_action, lead=lead, stage=Stage.SUBMITTED, message=spelled)
    again = engagement_record(action_company=forms_action, lead=lead, stage=Stage.SUBMITTED, message=respelled)
    assert again.replayed and again.engagement == first.engagement


@pytest.mark.django_db
def test_a_window_of_zero_records_every_keyless_request(forms_action, lead, settings):
    settings.ENGAGEMENT_DEDUPE_SECONDS = 0
    for _ in range(2):
        assert not engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED).replayed
    assert Engagement.objects.count() == 2


@pytest.mark.django_db
def test_keys_are_per_company(forms_action, lead):
    engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, idempotency_key="same")
    from tests.action_engine.factories import ActionCompanyFactory

    other = ActionCompanyFactory(company=CompanyFactory(), action=forms_action.action)
    other_lead = LeadFactory(company=other.company)
    recorded = engagement_record(action_company=other, lead=other_lead, stage=Stage.OPENED, idempotency_key="same")
    assert not recorded.replayed
    assert Engagement.objects.count() == 2


@pytest.mark.django_db
def test_the_idempotency_key_is_enforced_by_the_database(forms_action, lead):
    engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, idempotency_key="db")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.create(
            company=forms_action.company, action_company=forms_action, lead=lead, stage="opened", idempotency_key="db"
        )


@pytest.mark.django_db
def test_fanout_writes_deliveries_with_the_engagement(forms_action, lead):
    ActionCompanyWorkflowFactory(action_company=forms_action)
    recorded = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED)
    assert Delivery.objects.filter(engagement=recorded.engagement).count() == 1


@pytest.mark.django_db
def test_a_failing_fanout_rolls_the_engagement_back(forms_action, lead, monkeypatch):
    # The fan-out hook failing (a database error in its writes) must not leave an engagement without deliveries.
    def broken_fanout(*, engagement):
        raise RuntimeError("fan-out failed")

    monkeypatch.setattr(engagement_recorded, "_subscribers", [broken_fanout])
    with pytest.raises(RuntimeError):
        engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=uuid.uuid4())
    assert Engagement.objects.count() == 0 and Message.objects.count() == 0
    assert not Visitor.objects.filter(lead=lead).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_record_once(forms_action, lead):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    body = engagement_body(forms_action, lead, uuid.uuid4(), "submitted", FORM_RESULT)
    responses = post_at_once(body, HTTP_IDEMPOTENCY_KEY="race")
    assert [response.status_code for response in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert Engagement.objects.filter(idempotency_key="public:race").count() == 1
    assert Message.objects.count() == 1


def _record_at_once(*calls) -> list:
    """Each call's engagement_record keyword arguments, all released at the same moment from their own threads and
    connections; what each answered (the EngagementRecorded, or the exception it raised), in the calls' order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def record(index, kwargs):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = engagement_record(**kwargs)
        except Exception as exc:  # noqa: BLE001  (the caller looks at it)
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(index, kwargs)) for index, kwargs in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_engagements_of_one_lead_agree_on_the_furthest_stage(forms_action, lead):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    # Each from its own browser: identical keyless requests would count once (test_idempotency.py).
    calls = [("opened", {})] * 3 + [("submitted", FORM_RESULT)]
    outcomes = _record_at_once(
        *(
            {"action_company": forms_action, "lead": lead, "stage": stage, "message": message,
             "visitor_uuid": uuid.uuid4()}
            for stage, message in calls
        )
    )
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert errors == []
    rows = list(Engagement.objects.filter(lead=lead).order_by("id"))
    assert len(rows) == 4
    # Locking the lead serializes them: each row's previous stage is the furthest of the rows before it.
    rank = {"": -1, "opened": 1, "submitted": 2}
    furthest = ""
    for row in rows:
        assert row.previous_stage == furthest
        furthest = max(furthest, row.stage, key=rank.__getitem__)


@pytest.mark.django_db(transaction=True)
def test_a_new_visitor_first_seen_by_two_actions_at_once_is_one_visitor_with_one_first_touch(forms_action, lead):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    from tests.action_engine.factories import ActionCompanyFactory

    # Two actions, so that the lead's state rows (each action's own) do not serialize the two.
    other_action = ActionCompanyFactory(company=forms_action.company, action=forms_action.action)
    visitor = uuid.uuid4()
    outcomes = _record_at_once(
        *(
            {"action_company": action, "lead": lead, "stage": Stage.OPENED, "visitor_uuid": visitor,
             "attribution": {"utm_source": source}}
            for action, source in ((forms_action, "first"), (other_action, "second"))
        )
    )
    assert all(not isinstance(outcome, Exception) for outcome in outcomes), outcomes
    created = Visitor.objects.get(uuid=visitor)
    assert created.lead == lead and created.first_touch in ({"utm_source": "first"}, {"utm_source": "second"})
    assert set(Engagement.objects.values_list("visitor_id", flat=True)) == {created.pk}


@pytest.mark.django_db(transaction=True)
def test_a_new_visitor_claimed_by_two_leads_at_once_goes_to_one_and_the_other_is_a_conflict(forms_action, lead):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every write, so two requests can never race; run this on PostgreSQL.")
    other_lead = LeadFactory(company=lead.company)
    visitor = uuid.uuid4()
    outcomes = _record_at_once(
        *(
            {"action_company": forms_action, "lead": claimer, "stage": Stage.OPENED, "visitor_uuid": visitor}
            for claimer in (lead, other_lead)
        )
    )
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    recorded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert len(conflicts) == len(recorded) == 1, outcomes
    winner = recorded[0].engagement.lead
    assert Visitor.objects.get(uuid=visitor).lead == winner
    # The refused one left nothing: no engagement, message or state of its lead.
    assert list(Engagement.objects.values_list("lead", flat=True)) == [winner.pk]
    assert Message.objects.count() == 1
    assert list(LeadActionState.objects.values_list("lead", flat=True)) == [winner.pk]
