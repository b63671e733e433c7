# A receiver's mapping must now name the visitor's path (action_engine/services/receivers.py:
# receiver_mapping_check). Before, a key not mapped was read at its own name, so a mapping without
# "visitor" read the visitor at "visitor": writing that path out keeps every existing receiver reading
# calls exactly as before (a call without a visitor is refused now, as the rule wants).
from django.db import migrations


def name_the_visitor_path(apps, schema_editor):
    receivers = apps.get_model("action_engine", "ActionCompanyReceiver")
    for receiver in receivers.objects.all().only("id", "mapping").iterator():
        mapping = receiver.mapping if isinstance(receiver.mapping, dict) else {}
        visitor_path = mapping.get("visitor")
        if isinstance(visitor_path, str) and visitor_path.strip():
            continue
        receiver.mapping = {**mapping, "visitor": "visitor"}
        receiver.save(update_fields=["mapping"])


class Migration(migrations.Migration):

    dependencies = [
        ("action_engine", "0006_engagement_request_fingerprint"),
    ]

    operations = [
        migrations.RunPython(name_the_visitor_path, migrations.RunPython.noop),
    ]
