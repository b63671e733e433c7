"""Conditions: data-only tests on the engagement, validated on save, applied at fan-out."""
import pytest

from salesassist.core.exceptions import InvalidInput
from tests.workflows.conftest import attach_webhook, record_engagement
from workflows.conditions import condition_holds, conditions_validate
from workflows.models import Delivery

MESSAGE = {"data": {"email": "ana@acme.com", "tags": ["vip", "eu"], "score": 7, "empty": None}, "items": [{"sku": "A-1"}]}
FACTS = {"stage": "submitted", "previous_stage": "opened", "message": MESSAGE}


@pytest.mark.parametrize(
    "condition, holds",
    [
        ({"field": "stage", "op": "in", "value": ["submitted", "purchased"]}, True),
        ({"field": "stage", "op": "in", "value": ["sent"]}, False),
        ({"field": "stage", "op": "equals", "value": "submitted"}, True),
        ({"field": "previous_stage", "op": "not_equals", "value": "opened"}, False),
        ({"field": "message.data.email", "op": "equals", "value": "ana@acme.com"}, True),
        ({"field": "message.data.email", "op": "contains", "value": "@acme."}, True),
        ({"field": "message.data.email", "op": "contains", "value": "@globex."}, False),
        ({"field": "message.data.tags", "op": "contains", "value": "vip"}, True),
        ({"field": "message.data.tags", "op": "contains", "value": "us"}, False),
        ({"field": "message.data", "op": "contains", "value": "score"}, True),
        ({"field": "message.data.score", "op": "equals", "value": 7}, True),
        ({"field": "message.data.score", "op": "in", "value": [1, 2, 3]}, False),
        ({"field": "message.items.0.sku", "op": "equals", "value": "A-1"}, True),
        ({"field": "message.items.5.sku", "op": "exists"}, False),
        # Not list indexes, though str.isdigit says so: a miss, never a crash of the engagement.
        ({"field": "message.items.²", "op": "exists"}, False),
        ({"field": "message.items." + "9" * 5000, "op": "exists"}, False),
        ({"field": "message.data.phone", "op": "exists"}, False),
        ({"field": "message.data.phone", "op": "not_exists"}, True),
        ({"field": "message.data.empty", "op": "exists"}, False),
        ({"field": "message.data.email.deeper", "op": "exists"}, False),
        ({"field": "message.data.missing", "op": "equals", "value": None}, False),
        ({"field": "message.data.score", "op": "contains", "value": "7"}, False),
    ],
)
def test_condition_holds(condition, holds):
    conditions_validate([condition])
    assert condition_holds(condition, facts=FACTS) is holds


@pytest.mark.parametrize(
    "conditions, field",
    [
        ("stage == 'x'", "conditions"),
        ([{"field": "__import__('os')", "op": "equals", "value": 1}], "conditions.0.field"),
        ([{"field": "lead.email", "op": "equals", "value": 1}], "conditions.0.field"),
        ([{"field": "message.", "op": "exists"}], "conditions.0.field"),
        ([{"field": "stage", "op": "regex", "value": ".*"}], "conditions.0.op"),
        ([{"field": "stage", "op": "in", "value": "submitted"}], "conditions.0.value"),
        ([{"field": "stage", "op": "equals"}], "conditions.0.value"),
        ([{"field": "stage", "op": "exists", "value": 1}], "conditions.0.value"),
        ([{"field": "stage", "op": "equals", "value": {"a": 1}}], "conditions.0.value"),
        ([{"field": "stage", "op": "equals", "value": "x", "extra": 1}], "conditions.0"),
        (["stage"], "conditions.0"),
        ([{"field": "stage", "op": "exists"}] * 21, "conditions"),
    ],
)
def test_invalid_conditions_are_refused(conditions, field):
    with pytest.raises(InvalidInput) as error:
        conditions_validate(conditions)
    assert field in error.value.errors


@pytest.mark.django_db
def test_fan_out_applies_stages_and_conditions(action_company, sink):
    vip = attach_webhook(
        action_company,
        sink.url("/vip"),
        conditions=[{"field": "message.data.tags", "op": "contains", "value": "vip"}],
    )
    purchases = attach_webhook(action_company, sink.url("/buy"), stages=["purchased"])
    everything = attach_webhook(action_company, sink.url("/all"))

    plain = record_engagement(action_company, stage="submitted", body={"data": {"tags": ["eu"]}})
    special = record_engagement(action_company, stage="submitted", body={"data": {"tags": ["vip"]}})
    bought = record_engagement(action_company, stage="purchased", body={"data": {}})

    def fired(engagement):
        return set(Delivery.objects.filter(engagement=engagement).values_list("workflow_id", flat=True))

    assert fired(plain) == {everything.pk}
    assert fired(special) == {everything.pk, vip.pk}
    assert fired(bought) == {everything.pk, purchases.pk}
