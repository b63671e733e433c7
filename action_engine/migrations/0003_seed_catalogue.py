"""Seed the catalogue: action types, the three action systems and the two data types."""
from django.db import migrations

ACTION_TYPES = [
    ("product", "Product", "Show products to a lead."),
    ("document", "Document", "Share a document, video or article."),
    ("form", "Form", "Ask a lead to fill a form."),
    ("commerce", "Commerce", "Let a lead buy."),
]
ACTION_SYSTEMS = [
    ("forms", "Forms", "Renders a JSON-Schema form; the result is the submitted data."),
    ("commerce", "Commerce", "Lists products; the result is a purchased cart."),
    ("content", "Content", "Shows content; the result is a download."),
]
DATA_TYPES = [("product", "Product"), ("content", "Content")]


def seed(apps, schema_editor):
    ActionType = apps.get_model("action_engine", "ActionType")
    ActionSystem = apps.get_model("action_engine", "ActionSystem")
    ActionDataType = apps.get_model("action_engine", "ActionDataType")
    for slug, name, description in ACTION_TYPES:
        ActionType.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    for slug, name, description in ACTION_SYSTEMS:
        ActionSystem.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    for slug, name in DATA_TYPES:
        ActionDataType.objects.get_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("action_engine", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
