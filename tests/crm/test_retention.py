"""Retention: old attempt bodies and message bodies blanked, old raw inbound calls deleted, per company, in
batches of RETENTION_BATCH_SIZE rows per transaction; settings checked in the service and in admin."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from action_engine.models import Engagement, Message, ReceiverCall
from crm.models import Company, LeadReceiverAttempt
from crm.services import company_update, retention_apply, retention_in_effect
from salesassist.core.exceptions import InvalidInput
from tests.action_engine.factories import EngagementFactory, ReceiverCallFactory
from tests.crm.factories import CompanyFactory, LeadReceiverAttemptFactory
from tests.workflows.factories import DeliveryAttemptFactory, DeliveryFactory
from workflows.models import DeliveryAttempt

pytestmark = pytest.mark.django_db


def aged(row, days: float):
    """The row as if written `days` ago."""
    type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days))
    return row


def attempt(company, days: float) -> DeliveryAttempt:
    delivery = DeliveryFactory(engagement=EngagementFactory(action_company__company=company))
    return aged(DeliveryAttemptFactory(delivery=delivery, request_body='{"sent": 1}', response_body="no"), days)


def bodies(row) -> tuple:
    row.refresh_from_db()
    return row.request_body, row.response_body


def test_the_defaults_blank_attempts_after_30_days_delete_calls_after_90_and_keep_messages(company):
    old_attempt, new_attempt = attempt(company, 31), attempt(company, 29)
    old_call, new_call = aged(ReceiverCallFactory(company=company), 91), aged(ReceiverCallFactory(company=company), 89)
    old_lead_call = aged(LeadReceiverAttemptFactory(receiver__company=company), 91)
    new_lead_call = aged(LeadReceiverAttemptFactory(receiver__company=company), 89)
    old_message = aged(EngagementFactory(action_company__company=company).message, 4000)

    report = retention_apply()

    assert report.finished
    assert report.rows == {
        "raw lead receiver calls": 1,
        "raw receiver calls": 1,
        "message bodies": 0,
        "delivery attempt bodies": 1,
    }
    assert bodies(old_attempt) == ("", "") and bodies(new_attempt) == ('{"sent": 1}', "no")
    assert old_attempt.response_status == 500  # the row and its outcome stay
    assert list(ReceiverCall.objects.all()) == [new_call] and old_call.pk != new_call.pk
    assert list(LeadReceiverAttempt.objects.all()) == [new_lead_call] and old_lead_call.pk != new_lead_call.pk
    old_message.refresh_from_db()
    assert old_message.body == {"data": {"email": "lead@example.com"}}


def test_each_company_keeps_what_its_own_settings_say(company, other_company):
    company_update(
        company=company,
        user=None,
        settings={"attempt_body_retention_days": 2, "message_retention_days": 10, "inbound_call_retention_days": None},
    )
    company_update(company=other_company, user=None, settings={"attempt_body_retention_days": None})
    third = CompanyFactory()
    short, kept_forever, default = attempt(company, 3), attempt(other_company, 400), attempt(third, 3)
    engagement = EngagementFactory(action_company__company=company)
    aged(engagement.message, 11)
    recent_message = EngagementFactory(action_company__company=company).message
    other_message = aged(EngagementFactory(action_company__company=other_company).message, 11)
    call_kept = aged(ReceiverCallFactory(company=company), 400)
    call_gone = aged(ReceiverCallFactory(company=other_company), 91)

    retention_apply()

    assert bodies(short) == ("", "")
    assert bodies(kept_forever) == ('{"sent": 1}', "no") and bodies(default) == ('{"sent": 1}', "no")
    engagement.message.refresh_from_db()
    assert engagement.message.body == {}  # blanked, and its engagement still points at it
    assert Engagement.objects.get(pk=engagement.pk).message_id == engagement.message.pk
    assert Message.objects.get(pk=recent_message.pk).body and Message.objects.get(pk=other_message.pk).body
    assert list(ReceiverCall.objects.values_list("pk", flat=True)) == [call_kept.pk]
    assert not ReceiverCall.objects.filter(pk=call_gone.pk).exists()
    assert retention_in_effect(company=company) == {
        "attempt_body_retention_days": 2,
        "inbound_call_retention_days": None,
        "message_retention_days": 10,
    }
    assert retention_in_effect(company=third) == {
        "attempt_body_retention_days": 30,
        "inbound_call_retention_days": 90,
        "message_retention_days": None,
    }


@pytest.mark.parametrize("rows, batch, transactions", [(4, 2, 2), (5, 2, 3), (1, 1, 1), (3, 10, 1)])
def test_rows_change_in_batches_of_the_batch_size(company, settings, rows, batch, transactions):
    settings.RETENTION_BATCH_SIZE = batch
    old = [attempt(company, 40) for _ in range(rows)]
    calls = [aged(LeadReceiverAttemptFactory(receiver__company=company), 100) for _ in range(rows)]
    kept = attempt(company, 1)

    with CaptureQueriesContext(connection) as queries:
        report = retention_apply()

    statements = [query["sql"] for query in queries.captured_queries]
    updates = [sql for sql in statements if sql.startswith("UPDATE") and "workflows_deliveryattempt" in sql]
    deletes = [sql for sql in statements if sql.startswith("DELETE") and "crm_leadreceiverattempt" in sql]
    assert len(updates) == transactions and len(deletes) == transactions
    assert report.rows["delivery attempt bodies"] == rows and report.rows["raw lead receiver calls"] == rows
    assert all(bodies(row) == ("", "") for row in old) and bodies(kept) == ('{"sent": 1}', "no")
    assert not LeadReceiverAttempt.objects.filter(pk__in=[call.pk for call in calls]).exists()
    assert retention_apply().rows["delivery attempt bodies"] == 0  # blanked rows are not counted again


def test_a_dry_run_counts_and_changes_nothing(company, settings):
    settings.RETENTION_BATCH_SIZE = 2
    old = [attempt(company, 31) for _ in range(3)]
    aged(ReceiverCallFactory(company=company), 91)

    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)

    assert "delivery attempt bodies: 3 rows would change" in out.getvalue()
    assert "raw receiver calls: 1 rows would change" in out.getvalue()
    assert all(bodies(row) == ('{"sent": 1}', "no") for row in old) and ReceiverCall.objects.count() == 1
    call_command("apply_retention", stdout=StringIO())
    assert all(bodies(row) == ("", "") for row in old) and not ReceiverCall.objects.exists()


def test_a_run_out_of_time_stops_before_its_next_batch(company):
    row = attempt(company, 31)
    report = retention_apply(seconds=0)
    assert not report.finished and bodies(row) == ('{"sent": 1}', "no")


@pytest.mark.parametrize("value", [0, -1, "30", 36501, True, 1.5])
def test_a_bad_retention_setting_is_refused_per_key(company, value):
    with pytest.raises(InvalidInput) as refused:
        company_update(company=company, user=None, settings={"message_retention_days": value, "other": 1})
    assert list(refused.value.errors) == ["settings.message_retention_days"]
    company.refresh_from_db()
    assert company.settings == {}


def test_admin_shows_and_checks_the_retention_settings(admin_client, company):
    url = reverse("admin:crm_company_change", args=[company.pk])
    form = {"name": company.name, "slug": company.slug, "is_active": "on"}
    management = {"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0}
    assert "attempt_body_retention_days: 30 days" in admin_client.get(url).content.decode()

    refused = admin_client.post(url, {**form, **management, "settings": '{"attempt_body_retention_days": "a"}'})
    assert refused.status_code == 200
    assert "settings.attempt_body_retention_days" in str(refused.context["adminform"].form.errors["settings"])

    saved = admin_client.post(url, {**form, **management, "settings": '{"attempt_body_retention_days": 7}'})
    assert saved.status_code == 302
    assert Company.objects.get(pk=company.pk).settings == {"attempt_body_retention_days": 7}
    assert "attempt_body_retention_days: 7 days" in admin_client.get(url).content.decode()


def test_retention_runs_every_hour():
    schedule = Schedule.objects.get(name="crm-retention")
    assert schedule.func == "crm.tasks.retention_apply_scheduled" and schedule.schedule_type == Schedule.HOURLY
