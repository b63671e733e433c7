"""The lead's state on an action (LeadActionState): advanced by each engagement, rebuilt from the history."""

import importlib
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.forms.models import model_to_dict

from action_engine.choices import Stage
from action_engine.models import Engagement, LeadActionState
from action_engine.selectors import lead_stage_on_action
from action_engine.services import engagement_record, lead_action_states_rebuild
from tests.action_engine.factories import ModuleFactory
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    _action,
    commerce_action,
    forms_action,
    lead,
)
from tests.crm.factories import CompanyFactory, LeadFactory

FORM_RESULT = {"data": {"email": "ada@example.com"}}


def record(action_company, lead, stage, *, meta=None, message=None, key=""):
    if stage == Stage.SUBMITTED and message is None:
        message = FORM_RESULT
    if stage == Stage.DOWNLOADED and message is None:
        message = {"content": str(action_company.modules.get().content.uuid)}
    return engagement_record(
        action_company=action_company,
        lead=lead,
        stage=stage,
        message=message,
        visitor_uuid=uuid.uuid4(),
        meta=meta,
        idempotency_key=key,
    )


def states() -> dict:
    """Every state row, by (action company, lead), without its own id."""
    return {
        (state.action_company_id, state.lead_id): {
            key: value for key, value in model_to_dict(state).items() if key != "id"
        }
        for state in LeadActionState.objects.all()
    }


@pytest.mark.django_db
def test_the_state_keeps_the_furthest_stage_and_each_stage_first_reached(forms_action, lead):
    opened = record(forms_action, lead, Stage.OPENED, meta={"utm_source": "newsletter"})
    submitted = record(forms_action, lead, Stage.SUBMITTED)
    behind = record(forms_action, lead, Stage.OPENED, meta={"utm_source": "ads"})
    state = LeadActionState.objects.get(action_company=forms_action, lead=lead)
    assert (state.stage, state.stage_rank, state.engagement_count) == (Stage.SUBMITTED, 2, 3)
    # A stage behind the furthest is history: the state does not move back, its first time stays.
    assert behind.engagement.previous_stage == Stage.SUBMITTED and behind.current_stage == Stage.SUBMITTED
    assert state.opened_at == opened.engagement.created_at
    assert state.submitted_at == submitted.engagement.created_at
    assert state.sent_at is None
    assert state.first_engaged_at == opened.engagement.created_at
    assert state.last_engaged_at == behind.engagement.created_at
    assert state.last_engagement_id == behind.engagement.pk
    assert state.previous_stage == Stage.SUBMITTED
    # The first touch's source: later ones are on their engagements' meta only.
    assert state.utm_source == "newsletter"
    assert lead_stage_on_action(action_company=forms_action, lead=lead) == Stage.SUBMITTED


@pytest.mark.django_db
def test_a_lead_without_engagements_has_no_state_and_no_stage(forms_action, lead):
    assert lead_stage_on_action(action_company=forms_action, lead=lead) == ""
    assert not LeadActionState.objects.exists()


@pytest.mark.django_db
def test_a_keyless_repeat_writes_nothing_and_answers_the_first(forms_action, lead, settings):
    settings.ENGAGEMENT_DEDUPE_SECONDS = 10
    visitor = uuid.uuid4()
    first = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=visitor)
    again = engagement_record(action_company=forms_action, lead=lead, stage=Stage.OPENED, visitor_uuid=visitor)
    assert again.replayed and again.engagement.pk == first.engagement.pk
    state = LeadActionState.objects.get()
    assert (state.engagement_count, state.last_engagement_id) == (1, first.engagement.pk)


@pytest.mark.django_db
def test_rebuild_equals_what_the_engagements_wrote_one_by_one(company, forms_action, commerce_action, lead):
    other_lead = LeadFactory(company=company, email="grace@example.com")
    content = _action(company, "content", "document")
    ModuleFactory(action_company=content, kind="content")
    elsewhere = CompanyFactory(slug="elsewhere")
    foreign_action = _action(elsewhere, "forms", "form")
    ModuleFactory(action_company=foreign_action, kind="form")
    foreign_lead = LeadFactory(company=elsewhere, email="ada@elsewhere.example")
    history = [
        (forms_action, lead, Stage.SUBMITTED, {"utm_source": ""}),
        (forms_action, lead, Stage.SENT, {"utm_source": 7}),  # not a string: no source
        (forms_action, lead, Stage.OPENED, {"utm_source": "mail"}),
        (forms_action, lead, Stage.OPENED, {"utm_source": "ads"}),
        (forms_action, other_lead, Stage.OPENED, None),
        (forms_action, other_lead, Stage.OPENED, None),
        (commerce_action, lead, Stage.OPENED, {"utm_source": "x" * 300}),
        (commerce_action, lead, Stage.SENT, None),
        (content, other_lead, Stage.SENT, {"utm_source": "partner"}),
        (content, other_lead, Stage.DOWNLOADED, None),
        (content, other_lead, Stage.OPENED, None),
        (foreign_action, foreign_lead, Stage.OPENED, {"utm_source": "elsewhere"}),
        (foreign_action, foreign_lead, Stage.SUBMITTED, None),
    ]
    for action_company, who, stage, meta in history:
        record(action_company, who, stage, meta=meta)
    incremental = states()
    assert len(incremental) == 5
    assert incremental[(commerce_action.pk, lead.pk)]["utm_source"] == "x" * 200

    LeadActionState.objects.all().delete()
    assert lead_action_states_rebuild(batch_size=1) == 5
    assert states() == incremental
    # Idempotent, whole or one company at a time.
    assert lead_action_states_rebuild() == 5
    call_command("rebuild_lead_action_states", "--company", "elsewhere")
    assert states() == incremental


@pytest.mark.django_db
def test_rebuild_of_one_company_leaves_the_others(company, forms_action, lead):
    record(forms_action, lead, Stage.OPENED)
    elsewhere = CompanyFactory(slug="elsewhere")
    foreign_action = _action(elsewhere, "forms", "form")
    foreign_lead = LeadFactory(company=elsewhere)
    record(foreign_action, foreign_lead, Stage.OPENED)
    LeadActionState.objects.all().delete()
    call_command("rebuild_lead_action_states", "--company", "acme", "--batch-size", "1")
    assert list(LeadActionState.objects.values_list("lead_id", flat=True)) == [lead.pk]


@pytest.mark.django_db
def test_rebuild_reads_the_history_as_it_is(forms_action, lead):
    """Engagements imported with their own times, out of order: first times are the earliest ones."""
    late = record(forms_action, lead, Stage.OPENED).engagement
    early = record(forms_action, lead, Stage.OPENED).engagement
    Engagement.objects.filter(pk=early.pk).update(created_at=late.created_at - timedelta(days=1))
    lead_action_states_rebuild()
    state = LeadActionState.objects.get()
    assert state.opened_at == state.first_engaged_at == late.created_at - timedelta(days=1)
    assert state.last_engaged_at == late.created_at and state.last_engagement_id == early.pk


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_company():
    with pytest.raises(CommandError, match="No company"):
        call_command("rebuild_lead_action_states", "--company", "nobody")


@pytest.mark.django_db
def test_the_migration_backfills_the_states_of_the_history_before_it(company, forms_action, commerce_action, lead):
    other_lead = LeadFactory(company=company, email="grace@example.com")
    for action_company, who, stage, meta in [
        (forms_action, lead, Stage.SUBMITTED, None),
        (forms_action, lead, Stage.OPENED, {"utm_source": "mail"}),
        (forms_action, other_lead, Stage.SENT, None),
        (commerce_action, lead, Stage.OPENED, {"utm_source": "ads"}),
    ]:
        record(action_company, who, stage, meta=meta)
    incremental = states()
    LeadActionState.objects.all().delete()
    backfill = importlib.import_module("action_engine.migrations.0010_backfill_lead_action_states").backfill
    backfill(apps, SimpleNamespace(connection=connection))
    assert states() == incremental
