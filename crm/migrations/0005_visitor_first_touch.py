"""A visitor keeps its first touch (attribution: utm_*, referrer, landing URL).

On SQLite, adding the column rebuilds the table, which drops its triggers: the ones of 0002 (a visitor's
lead belongs to its company) are made again after the rebuild, as in 0004.
"""

import importlib

from django.db import migrations, models

unique_per_company = importlib.import_module("crm.migrations.0004_visitor_uuid_unique_per_company")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0004_visitor_uuid_unique_per_company'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, unique_per_company.sqlite_triggers_again),
        migrations.AddField(
            model_name='visitor',
            name='first_touch',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(unique_per_company.sqlite_triggers_again, migrations.RunPython.noop),
    ]
