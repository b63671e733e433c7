"""A visitor's uuid is unique within its company only (crm/models.py: Visitor says why).

Every existing uuid is unique across companies, so it is unique per company too: no row changes.
"""

import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_lead_receiver_secret_and_rejected_calls'),
    ]

    operations = [
        migrations.AlterField(
            model_name='visitor',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AddConstraint(
            model_name='visitor',
            constraint=models.UniqueConstraint(fields=('company', 'uuid'), name='crm_visitor_uuid_per_company'),
        ),
    ]
