"""On PostgreSQL the funnel's index (ae_state_funnel) also carries every column the funnel reads, so a funnel
over a million leads is an index-only scan instead of a read of the whole table (bench/board.py).

Django's Index(include=...) would do the same but warns on every SQLite migrate (models.W040), so the INCLUDE is
PostgreSQL SQL here and the model keeps the plain index (same name, same key columns) for every other database.
"""
from django.db import migrations

COLUMNS = "stage_rank, sent_at, opened_at, submitted_at, downloaded_at, purchased_at, utm_source, lead_id"
TABLE = "action_engine_leadactionstate"
COVERING = f"CREATE INDEX ae_state_funnel ON {TABLE} (action_company_id, first_engaged_at) INCLUDE ({COLUMNS})"
PLAIN = f"CREATE INDEX ae_state_funnel ON {TABLE} (action_company_id, first_engaged_at)"


def _replace_index(definition):
    def replace(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX ae_state_funnel")
            schema_editor.execute(definition)

    return replace


class Migration(migrations.Migration):
    dependencies = [
        ("action_engine", "0012_receivercall_partitioned"),
    ]

    operations = [
        migrations.RunPython(_replace_index(COVERING), _replace_index(PLAIN), elidable=False),
    ]
