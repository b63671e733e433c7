# The links between actions and workflows move here from the action engine (its 0004): this app takes
# over their existing tables, rows and uuids unchanged (state only), then renames the tables and their
# unique constraints to this app's names.
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def _link_fields(parent_field: str, parent_model: str, parent_related_name: str, workflow_related_name: str):
    return [
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
        ("updated_at", models.DateTimeField(auto_now=True)),
        ("position", models.PositiveIntegerField(default=0)),
        (
            parent_field,
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name=parent_related_name, to=parent_model
            ),
        ),
        (
            "workflow",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name=workflow_related_name,
                to="workflows.workflow",
            ),
        ),
    ]


class Migration(migrations.Migration):

    dependencies = [
        ("action_engine", "0004_move_workflow_links"),
        ("workflows", "0004_delivery_lease_token_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ActionWorkflow",
                    fields=_link_fields("action", "action_engine.action", "action_workflows", "action_links"),
                    options={
                        "db_table": "action_engine_actionworkflow",
                        "ordering": ["position", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("action", "workflow"), name="action_engine_actionworkflow_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ActionCompanyWorkflow",
                    fields=_link_fields(
                        "action_company", "action_engine.actioncompany", "company_workflows", "company_action_links"
                    ),
                    options={
                        "db_table": "action_engine_actioncompanyworkflow",
                        "verbose_name": "company action workflow",
                        "ordering": ["position", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("action_company", "workflow"), name="ae_actioncompanyworkflow_unique"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="actionworkflow", table=None),
        migrations.AlterModelTable(name="actioncompanyworkflow", table=None),
        migrations.RemoveConstraint(model_name="actionworkflow", name="action_engine_actionworkflow_unique"),
        migrations.AddConstraint(
            model_name="actionworkflow",
            constraint=models.UniqueConstraint(fields=("action", "workflow"), name="workflows_actionworkflow_unique"),
        ),
        migrations.RemoveConstraint(model_name="actioncompanyworkflow", name="ae_actioncompanyworkflow_unique"),
        migrations.AddConstraint(
            model_name="actioncompanyworkflow",
            constraint=models.UniqueConstraint(
                fields=("action_company", "workflow"), name="workflows_actioncompanyworkflow_unique"
            ),
        ),
    ]
