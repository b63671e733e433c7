"""Workflows subscribe to event types (`events`; every existing one to "engagement.*", what it received so
far), and a delivery carries any event: its type, its lead, and a body snapshot where no engagement makes it.

Existing deliveries are all engagement events: their type is "engagement.<the engagement's stage>" and their
lead the engagement's.
"""
import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat

import workflows.models


def deliveries_typed(apps, schema_editor):
    Delivery = apps.get_model("workflows", "Delivery")
    Engagement = apps.get_model("action_engine", "Engagement")
    engagement = Engagement.objects.filter(pk=OuterRef("engagement_id"))
    Delivery.objects.filter(engagement__isnull=False).update(
        event_type=Concat(Value("engagement."), Subquery(engagement.values("stage")[:1])),
        lead_id=Subquery(engagement.values("lead_id")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("action_engine", "0008_lead_action_state_and_engagement_meta"),
        ("crm", "0005_visitor_first_touch"),
        ("workflows", "0005_move_workflow_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="events",
            field=models.JSONField(
                default=workflows.models.default_workflow_events,
                help_text='Event types it subscribes to (workflows.choices.WorkflowEvent); "engagement.*" is every '
                "engagement event its stages allow.",
            ),
        ),
        migrations.AlterField(
            model_name="workflow",
            name="stages",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Stages of the engagement events it fires on; empty means every stage.",
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="event_type",
            field=models.CharField(
                default="", help_text="The catalogue's type (workflows/event_types.py).", max_length=50
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delivery",
            name="lead",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="crm.lead",
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="payload",
            field=models.JSONField(
                blank=True, editable=False, help_text="The body, for non-engagement events.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="engagement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="action_engine.engagement",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(("engagement__isnull", False), ("payload__isnull", False), _connector="OR"),
                name="workflows_delivery_has_body",
            ),
        ),
        # Last: on PostgreSQL no ALTER TABLE may follow an update of a foreign key in the same transaction.
        migrations.RunPython(deliveries_typed, migrations.RunPython.noop, elidable=True),
    ]
