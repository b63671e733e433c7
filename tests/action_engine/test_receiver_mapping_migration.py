"""Migration 0007 writes out the visitor path receivers read implicitly before every mapping had to name it."""
import importlib

import pytest
from django.apps import apps

from action_engine.models import ActionCompanyReceiver
from tests.action_engine.factories import ActionCompanyFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("action_engine.migrations.0007_receiver_mapping_names_visitor")


def test_receivers_without_a_visitor_path_read_it_where_they_did_before():
    mappings = [{}, {"lead": "contact.id", "visitor": ""}, ["not", "an", "object"], {"visitor": "contact.browser"}]
    receivers = []
    for mapping in mappings:
        receiver = ActionCompanyFactory().receivers.get()
        # As saved before the rule: written around the services, which now refuse these mappings.
        ActionCompanyReceiver.objects.filter(pk=receiver.pk).update(mapping=mapping)
        receivers.append(receiver)
    migration.name_the_visitor_path(apps, None)
    assert [ActionCompanyReceiver.objects.get(pk=r.pk).mapping for r in receivers] == [
        {"visitor": "visitor"},
        {"lead": "contact.id", "visitor": "visitor"},
        {"visitor": "visitor"},
        {"visitor": "contact.browser"},
    ]
