"""A visitor's uuid is unique within its company only (crm/models.py: Visitor says why).

Every existing uuid is unique across companies, so it is unique per company too: no row changes.

On SQLite, altering the column rebuilds the table, which drops its triggers: the ones of 0002 (a visitor's
lead belongs to its company) are made again after the rebuild, both ways.
"""

import importlib
import uuid

from django.db import migrations, models

same_company = importlib.import_module("crm.migrations.0002_visitor_lead_same_company")


def sqlite_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in [*same_company.SQLITE_REVERSE, *same_company.SQLITE_FORWARD]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_lead_receiver_secret_and_rejected_calls'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers_again),
        migrations.AlterField(
            model_name='visitor',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AddConstraint(
            model_name='visitor',
            constraint=models.UniqueConstraint(fields=('company', 'uuid'), name='crm_visitor_uuid_per_company'),
        ),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop),
    ]
