"""A database migrated on an earlier layout, with data in every table, migrates forward without losing a row.

The layout change moved the links between actions and workflows from the engine to the workflows app
(action_engine 0004, workflows 0005: same rows, same uuids, tables renamed). This test migrates back to
the layout before it, fills every table of our apps, migrates forward, and compares every row's uuid.
"""
import datetime
import decimal
import uuid

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

# The last migration of each of our apps before the layout change.
BEFORE_LAYOUT = [
    ("core", "0002_heartbeat_schedule"),
    ("crm", "0002_visitor_lead_same_company"),
    ("products", "0001_initial"),
    ("action_engine", "0003_seed_catalogue"),
    ("workflows", "0004_delivery_lease_token_index"),
]
OUR_APPS = {app for app, _ in BEFORE_LAYOUT}
# Models that changed app in the layout change: old label -> new label.
MOVED = {
    "action_engine.ActionWorkflow": "workflows.ActionWorkflow",
    "action_engine.ActionCompanyWorkflow": "workflows.ActionCompanyWorkflow",
}


class RowMaker:
    """One row of every model of an app registry, each foreign key pointing at the row made for its model."""

    def __init__(self, registry):
        self.registry = registry
        self.made: dict[str, models.Model] = {}
        self.counter = 0

    def row(self, model):
        label = model._meta.label
        if label not in self.made:
            # Seeded tables (the catalogue) keep their rows; every other table gets one.
            existing = model._base_manager.order_by("pk").first()
            self.made[label] = existing or model._base_manager.create(**self._values(model))
        return self.made[label]

    def _values(self, model) -> dict:
        values = {}
        for field in model._meta.concrete_fields:
            if field.primary_key or (field.null and not field.is_relation) or field.has_default():
                continue
            if field.is_relation:
                if field.null:
                    continue
                values[field.name] = self.row(field.related_model)
            else:
                values[field.name] = self._value(field)
        if model._meta.label == "action_engine.ActionCompanySystemModule":
            values.update(kind="product", product=self.row(self.registry.get_model("products", "Product")))
        return values

    def _value(self, field):
        self.counter += 1
        if field.choices:
            return field.choices[0][0]
        if isinstance(field, models.FileField):
            return f"files/row{self.counter}.txt"
        if isinstance(field, models.EmailField):
            return f"row{self.counter}@example.com"
        if isinstance(field, models.URLField):
            return f"https://example.com/{self.counter}"
        if isinstance(field, (models.CharField, models.TextField)):
            return f"row-{self.counter}"[: field.max_length or None]
        if isinstance(field, models.DecimalField):
            return decimal.Decimal("1.00")
        if isinstance(field, (models.IntegerField, models.PositiveIntegerField)):
            return self.counter
        if isinstance(field, models.DateTimeField):
            return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        if isinstance(field, models.UUIDField):
            return uuid.uuid4()
        if isinstance(field, models.JSONField):
            return {}
        if isinstance(field, models.BooleanField):
            return False
        raise AssertionError(f"No value for {field!r}: teach RowMaker this field type.")


def _uuids(registry, labels) -> dict[str, set]:
    return {label: set(registry.get_model(label)._base_manager.values_list("uuid", flat=True)) for label in labels}


def _links(registry, app_label: str) -> dict[str, list[dict]]:
    """Every column of the action-workflow link rows, by model name."""
    return {
        name: list(registry.get_model(app_label, name).objects.order_by("pk").values(*columns))
        for name, columns in (
            ("ActionWorkflow", ("id", "uuid", "action_id", "workflow_id", "position", "created_at", "updated_at")),
            (
                "ActionCompanyWorkflow",
                ("id", "uuid", "action_company_id", "workflow_id", "position", "created_at", "updated_at"),
            ),
        )
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_earlier_layout_migrates_forward_keeping_every_row():
    executor = MigrationExecutor(connection)
    latest = [node for node in executor.loader.graph.leaf_nodes() if node[0] in OUR_APPS]
    try:
        _fill_migrate_and_compare(latest)
    finally:
        # Whatever happened, the next tests get the schema of today's models.
        MigrationExecutor(connection).migrate(latest)


def _fill_migrate_and_compare(latest):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_LAYOUT)

    executor = MigrationExecutor(connection)
    before = executor.loader.project_state(BEFORE_LAYOUT).apps
    maker = RowMaker(before)
    our_models = [model for model in before.get_models() if model._meta.app_label in OUR_APPS]
    for model in our_models:
        maker.row(model)
    labels = [model._meta.label for model in our_models if any(f.name == "uuid" for f in model._meta.fields)]
    uuids_before = _uuids(before, labels)
    assert all(uuids_before.values()), "every table has a row"
    links_before = _links(before, "action_engine")

    executor.loader.build_graph()
    executor.migrate(latest)

    after = MigrationExecutor(connection).loader.project_state(latest).apps
    uuids_after = _uuids(after, [MOVED.get(label, label) for label in labels])
    for label in labels:
        assert uuids_after[MOVED.get(label, label)] == uuids_before[label], label
    assert _links(after, "workflows") == links_before
    # The tables took the workflows app's names.
    tables = set(connection.introspection.table_names())
    assert {"workflows_actionworkflow", "workflows_actioncompanyworkflow"} <= tables
    assert not {"action_engine_actionworkflow", "action_engine_actioncompanyworkflow"} & tables
