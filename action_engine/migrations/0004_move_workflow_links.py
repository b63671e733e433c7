# The links between actions and workflows (ActionWorkflow, ActionCompanyWorkflow) belong to the workflows
# app now (workflows 0005 takes them over): they leave this app's state only; tables and rows stay.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("action_engine", "0003_seed_catalogue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="actioncompany", name="workflows"),
                migrations.RemoveField(model_name="action", name="default_workflows"),
                migrations.DeleteModel(name="ActionCompanyWorkflow"),
                migrations.DeleteModel(name="ActionWorkflow"),
            ],
            database_operations=[],
        ),
    ]
