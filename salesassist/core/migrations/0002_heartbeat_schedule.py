"""Schedule the worker heartbeat that /healthz reads (every minute)."""
from django.db import migrations

HEARTBEAT_FUNC = "salesassist.core.health.worker_heartbeat"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="worker-heartbeat",
        defaults={"func": HEARTBEAT_FUNC, "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="worker-heartbeat").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
