"""The django-q2 side: the sweeper is scheduled every minute by a migration; tasks take ids and never raise."""
import pydoc

import pytest
from django_q.models import Schedule

from workflows import tasks

pytestmark = pytest.mark.django_db


def test_the_sweeper_is_scheduled_every_minute_by_a_migration():
    schedule = Schedule.objects.get(name="workflows-delivery-sweeper")
    assert schedule.func == "workflows.tasks.deliveries_sweep"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats == -1
    assert pydoc.locate(schedule.func) is tasks.deliveries_sweep


def test_tasks_never_raise():
    assert tasks.deliveries_send([987654321]) == 0  # no such delivery: nothing to do
    assert tasks.deliveries_send(["not an id"]) == 0  # a broken argument is logged, not raised
    assert tasks.deliveries_sweep() == 0
