"""Raw lead receiver calls partitioned by month of created_at on PostgreSQL, rows kept (salesassist/core/partitions.py):
retention drops a month whole instead of deleting its rows one batch at a time. SQLite stays as it is."""
from django.db import migrations

from salesassist.core.partitions import table_partition, table_unpartition

TABLE = "crm_leadreceiverattempt"


def partition(apps, schema_editor):
    table_partition(schema_editor, table=TABLE, months_ahead=3)


def unpartition(apps, schema_editor):
    table_unpartition(schema_editor, table=TABLE)


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_lead_import"), ("core", "0003_partition_schedule")]

    operations = [migrations.RunPython(partition, unpartition)]
