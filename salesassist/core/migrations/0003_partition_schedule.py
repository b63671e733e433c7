"""Schedule the partition maintenance (daily): the coming months' partitions of the partitioned tables."""
from django.db import migrations

PARTITIONS_NAME = "partitions-ensure"
PARTITIONS_FUNC = "salesassist.core.partitions.partitions_ensure_scheduled"


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=PARTITIONS_NAME, defaults={"func": PARTITIONS_FUNC, "schedule_type": "D", "repeats": -1}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=PARTITIONS_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_heartbeat_schedule")]

    operations = [migrations.RunPython(schedule, unschedule)]
