"""A lead may unsubscribe from the emails sent to them (the unsubscribe link of a shared action's email)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0006_retention_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="unsubscribed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
