"""The raw inbound call tables partitioned by month on PostgreSQL (salesassist/core/partitions.py): partitions made
ahead, rows in their month's partition (or the default one), retention dropping the months every company has
expired, and the ORM, admin and replay working on the partitioned tables as on plain ones."""
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from action_engine.models import ReceiverCall
from crm.models import LeadReceiverAttempt
from crm.services import company_update, retention_apply
from salesassist.core.partitions import (
    month_partitions,
    partition_name,
    partitioned_tables,
    partitions_ensure,
    partitions_ensure_scheduled,
)
from tests.action_engine.factories import ReceiverCallFactory
from tests.crm.factories import LeadReceiverAttemptFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's"),
]
CALLS = "action_engine_receivercall"


def month_of(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def months_from_now(count: int) -> datetime:
    month = month_of(timezone.now())
    for _ in range(count):
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return month


def partition_of(row) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {row._meta.db_table} WHERE id = %s", [row.pk])
        return cursor.fetchone()[0]


def committed_so_far():
    """Run the deferred foreign key checks now, as a commit would: PostgreSQL drops no table with checks pending
    in its transaction, and a test's rows are all in one."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def aged(row, days: float):
    type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days))
    row.refresh_from_db()
    return row


def test_both_raw_call_tables_are_partitioned_with_three_months_ahead():
    assert partitioned_tables() == ["action_engine_receivercall", "crm_leadreceiverattempt"]
    for table in partitioned_tables():
        names = [name for name, _, _ in month_partitions(table)]
        assert names[-4:] == [partition_name(table, months_from_now(n)) for n in range(4)]


def test_a_row_lands_in_its_months_partition_or_the_default_one(company):
    now_call = ReceiverCallFactory(company=company)
    old_call = aged(ReceiverCallFactory(company=company), 400)
    lead_call = LeadReceiverAttemptFactory(receiver__company=company)

    assert partition_of(now_call) == partition_name(CALLS, months_from_now(0))
    assert partition_of(old_call) == f"{CALLS}_default"  # no partition for its month: the default keeps it
    assert partition_of(lead_call) == partition_name("crm_leadreceiverattempt", months_from_now(0))
    assert ReceiverCall.objects.get(uuid=old_call.uuid) == old_call


def test_the_maintenance_makes_the_coming_months_once_and_moves_rows_the_default_caught(company, settings):
    settings.PARTITION_MONTHS_AHEAD = 5
    later = ReceiverCallFactory(company=company, created_at=months_from_now(5) + timedelta(days=2))
    assert partition_of(later) == f"{CALLS}_default"

    out = StringIO()
    call_command("ensure_partitions", stdout=out)

    made = [partition_name(CALLS, months_from_now(4)), partition_name(CALLS, months_from_now(5))]
    assert f"{CALLS}: {', '.join(made)}" in out.getvalue()
    assert partition_of(later) == made[-1]
    later.refresh_from_db()
    assert later.body == '{"lead": "unknown"}'
    assert all(not created for created in partitions_ensure_scheduled().values())  # nothing twice


def test_the_maintenance_runs_every_day():
    schedule = Schedule.objects.get(name="partitions-ensure")
    assert schedule.func == "salesassist.core.partitions.partitions_ensure_scheduled"
    assert schedule.schedule_type == Schedule.DAILY


def test_retention_drops_the_months_every_company_expired_and_deletes_the_rest_in_batches(company, other_company):
    partitions_ensure(table=CALLS, since=timezone.now() - timedelta(days=200), until=timezone.now())
    dropped_month = partition_name(CALLS, month_of(timezone.now() - timedelta(days=200)))
    oldest = aged(ReceiverCallFactory(company=company), 200)
    assert partition_of(oldest) == dropped_month
    expired = aged(ReceiverCallFactory(company=other_company), 90.05)  # just past the 90 days
    kept = aged(ReceiverCallFactory(company=company), 10)
    committed_so_far()

    report = retention_apply()

    assert report.rows["raw receiver calls"] == 2
    assert list(ReceiverCall.objects.all()) == [kept]
    names = [name for name, _, _ in month_partitions(CALLS)]
    assert dropped_month not in names
    assert partition_name(CALLS, month_of(expired.created_at)) in names  # not wholly expired: its row went alone


@pytest.mark.parametrize("longest", [None, 400])
def test_a_company_that_keeps_longer_keeps_every_month_it_needs(company, other_company, longest):
    partitions_ensure(table=CALLS, since=timezone.now() - timedelta(days=200), until=timezone.now())
    company_update(company=company, user=None, settings={"inbound_call_retention_days": longest})
    kept = aged(ReceiverCallFactory(company=company), 200)
    gone = aged(ReceiverCallFactory(company=other_company), 200)
    committed_so_far()

    report = retention_apply()

    assert report.rows["raw receiver calls"] == 1
    assert list(ReceiverCall.objects.all()) == [kept]
    assert partition_of(kept) == partition_name(CALLS, month_of(kept.created_at)) and gone.pk != kept.pk


def test_a_dry_run_counts_a_droppable_month_once_and_drops_nothing(company):
    aged(LeadReceiverAttemptFactory(receiver__company=company), 200)
    partitions_ensure(table="crm_leadreceiverattempt", since=timezone.now() - timedelta(days=200), until=timezone.now())
    committed_so_far()

    assert retention_apply(dry_run=True).rows["raw lead receiver calls"] == 1
    assert LeadReceiverAttempt.objects.count() == 1
    assert retention_apply().rows["raw lead receiver calls"] == 1
    assert not LeadReceiverAttempt.objects.exists()


def test_the_orm_and_admin_work_on_a_partitioned_table(admin_client, company):
    call = ReceiverCallFactory(company=company, headers={"content-type": "application/json"})
    call.outcome = "failed"
    call.save()
    assert ReceiverCall.objects.get(pk=call.pk).outcome == "failed"
    assert ReceiverCall.objects.select_for_update().filter(uuid=call.uuid).count() == 1

    changelist = admin_client.get(reverse("admin:action_engine_receivercall_changelist"))
    page = admin_client.get(reverse("admin:action_engine_receivercall_change", args=[call.pk]))
    assert changelist.status_code == 200
    assert page.status_code == 200
    lead_call = LeadReceiverAttemptFactory(receiver__company=company)
    assert admin_client.get(reverse("admin:crm_leadreceiverattempt_change", args=[lead_call.pk])).status_code == 200
    call.delete()
    assert not ReceiverCall.objects.exists()
