"""Workflow conditions: simple, data-only tests on an engagement, evaluated without eval.

A workflow's `conditions` is a list; every condition must hold. Each is
`{"field": <path>, "op": <ConditionOperator>, "value": ...}` where path is `stage`, `previous_stage`, or
`message.<dot path>` into the message body (list items by index: `message.items.0.sku`).
"""
from collections.abc import Mapping

from salesassist.core.dotpath import list_index
from salesassist.core.exceptions import InvalidInput

from .choices import ConditionOperator

MAX_CONDITIONS = 20
MAX_PATH_DEPTH = 10
ENGAGEMENT_FIELDS = ("stage", "previous_stage")
MESSAGE_PREFIX = "message."
_MISSING = object()


def _path_parts(field) -> list[str] | None:
    if not isinstance(field, str) or not field:
        return None
    if field in ENGAGEMENT_FIELDS:
        return [field]
    if field.startswith(MESSAGE_PREFIX):
        parts = field[len(MESSAGE_PREFIX) :].split(".")
        if parts and all(parts) and len(parts) <= MAX_PATH_DEPTH:
            return ["message", *parts]
    return None


def conditions_validate(conditions) -> list[dict]:
    """The conditions, checked; InvalidInput with `conditions.<i>.<key>` errors otherwise."""
    if conditions in (None, ""):
        return []
    if not isinstance(conditions, list):
        raise InvalidInput("Conditions must be a list.", errors={"conditions": ["Must be a list of conditions."]})
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidInput("Too many conditions.", errors={"conditions": [f"At most {MAX_CONDITIONS} conditions."]})
    errors: dict[str, list[str]] = {}
    cleaned = []
    for index, condition in enumerate(conditions):
        prefix = f"conditions.{index}"
        if not isinstance(condition, Mapping):
            errors[prefix] = ['Must be an object {"field", "op", "value"}.']
            continue
        unknown = set(condition) - {"field", "op", "value"}
        if unknown:
            errors[prefix] = [f"Unknown keys: {', '.join(sorted(map(str, unknown)))}."]
        if _path_parts(condition.get("field")) is None:
            errors[f"{prefix}.field"] = [
                "Must be stage, previous_stage or message.<dot path> (at most "
                f"{MAX_PATH_DEPTH} segments)."
            ]
        op = condition.get("op")
        if op not in ConditionOperator.values:
            errors[f"{prefix}.op"] = [f"Must be one of: {', '.join(ConditionOperator.values)}."]
        elif op in (ConditionOperator.EXISTS, ConditionOperator.NOT_EXISTS):
            if "value" in condition:
                errors[f"{prefix}.value"] = [f"'{op}' takes no value."]
        elif "value" not in condition:
            errors[f"{prefix}.value"] = ["This operator needs a value."]
        elif op == ConditionOperator.IN and not isinstance(condition["value"], list):
            errors[f"{prefix}.value"] = ["'in' needs a list of values."]
        elif isinstance(condition.get("value"), (dict, list)) and op != ConditionOperator.IN:
            errors[f"{prefix}.value"] = ["Compare with a string, number, boolean or null."]
        cleaned.append({key: condition[key] for key in ("field", "op", "value") if key in condition})
    if errors:
        raise InvalidInput("The conditions are invalid; see errors.", errors=errors)
    return cleaned


def _lookup(root, parts: list[str]):
    value = root
    for part in parts:
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and (index := list_index(part)) is not None:
            value = value[index] if index < len(value) else _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def condition_holds(condition: Mapping, *, facts: Mapping) -> bool:
    """One condition against the facts {"stage", "previous_stage", "message": body}."""
    value = _lookup(facts, _path_parts(condition["field"]) or [])
    op = condition["op"]
    expected = condition.get("value")
    if op == ConditionOperator.EXISTS:
        return value is not _MISSING and value is not None
    if op == ConditionOperator.NOT_EXISTS:
        return value is _MISSING or value is None
    if value is _MISSING:
        return False
    if op == ConditionOperator.EQUALS:
        return value == expected
    if op == ConditionOperator.NOT_EQUALS:
        return value != expected
    if op == ConditionOperator.IN:
        return value in expected
    if op == ConditionOperator.CONTAINS:
        if isinstance(value, str):
            return isinstance(expected, str) and expected in value
        if isinstance(value, list):
            return expected in value
        if isinstance(value, Mapping):
            return expected in value
        return False
    return False


def conditions_hold(conditions: list, *, engagement) -> bool:
    """Whether every condition holds for the engagement (an empty list always holds)."""
    if not conditions:
        return True
    message = engagement.message.body if engagement.message else {}
    facts = {"stage": engagement.stage, "previous_stage": engagement.previous_stage, "message": message}
    return all(condition_holds(condition, facts=facts) for condition in conditions)
