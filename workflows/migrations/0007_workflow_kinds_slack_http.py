"""Two more workflow kinds: slack and http (a templated request)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflows", "0006_workflow_events_and_deliveries_of_any_event")]

    operations = [
        migrations.AlterField(
            model_name="workflow",
            name="kind",
            field=models.CharField(
                choices=[
                    ("webhook", "Webhook"),
                    ("email", "Email"),
                    ("slack", "Slack message"),
                    ("http", "HTTP request (templated)"),
                ],
                default="webhook",
                max_length=20,
            ),
        ),
    ]
