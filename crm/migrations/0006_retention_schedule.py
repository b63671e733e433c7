"""Schedule retention (every hour): old bodies blanked, old raw inbound calls deleted (crm.tasks)."""
from django.db import migrations

RETENTION_NAME = "crm-retention"
RETENTION_FUNC = "crm.tasks.retention_apply_scheduled"


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=RETENTION_NAME, defaults={"func": RETENTION_FUNC, "schedule_type": "H", "repeats": -1}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=RETENTION_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_visitor_first_touch"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
