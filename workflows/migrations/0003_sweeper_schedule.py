"""Schedule the delivery sweeper (every minute): it re-enqueues deliveries that are due or whose lease ran out."""
from django.db import migrations

SWEEPER_NAME = "workflows-delivery-sweeper"
SWEEPER_FUNC = "workflows.tasks.deliveries_sweep"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SWEEPER_NAME,
        defaults={"func": SWEEPER_FUNC, "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEPER_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_delivery_lease_and_failing_since"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
