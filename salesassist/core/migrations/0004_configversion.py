"""The configuration version that per-process caches check on every request (salesassist/core/config.py)."""
import uuid

from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("core", "ConfigVersion").objects.create(pk=1, value=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_partition_schedule"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.UUIDField(default=uuid.uuid4)),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
