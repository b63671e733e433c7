"""The forms system: a page renders a JSON-Schema form; the result is the submitted data."""

import json
from functools import lru_cache

from jsonschema.exceptions import SchemaError, UnknownType
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from action_engine.choices import ModuleKind, Stage, SystemSlug
from salesassist.core.exceptions import InvalidInput
from salesassist.core.json_schema import FORMAT_CHECKER, Re2Validator, schema_check

from .base import ActionSystemSpec

# Schemas are resolved against this registry alone: it retrieves nothing, so a "$ref" to a URL is
# unresolvable instead of fetched (without it jsonschema would fetch any URL a form names: SSRF).
NO_REMOTE_REFS = Registry()
FORMAT_MESSAGES = {
    "email": "Enter a valid email address.",
    "date": "Enter a valid date (YYYY-MM-DD).",
    "date-time": "Enter a valid date and time.",
    "uri": "Enter a valid URL.",
}


def _message(error) -> str:
    """A message a lead understands; jsonschema's own ("'x' is not a 'email'") is for developers."""
    value = error.validator_value
    messages = {
        "format": lambda: FORMAT_MESSAGES.get(value, f"Enter a valid {value}."),
        "maxLength": lambda: f"At most {value} characters.",
        "minLength": lambda: "This field is required." if value == 1 else f"At least {value} characters.",
        "minimum": lambda: f"Must be at least {value}.",
        "maximum": lambda: f"Must be at most {value}.",
        "enum": lambda: "Must be one of: " + ", ".join(str(option) for option in value) + ".",
        "type": lambda: f"Must be of type {value}.",
        "pattern": lambda: "Has the wrong format.",
    }
    return messages[error.validator]() if error.validator in messages else error.message


def _field_errors(validator: Re2Validator, data: dict) -> dict[str, list[str]]:
    """Each failing field as {"data.<path>": [messages]}; a missing required field names itself."""
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                errors.setdefault(".".join(["data", *path, name]), []).append("This field is required.")
            continue
        errors.setdefault(".".join(["data", *path]), []).append(_message(error))
    return errors


@lru_cache(maxsize=256)
def _validator_for(schema_json: str) -> Re2Validator:
    """A checked validator per distinct schema: building one costs more than validating a submission.

    Its patterns run on RE2 (salesassist/core/json_schema.py): a form saved before that rule whose pattern
    RE2 cannot compile fails schema_check here, so its submissions are refused, never run by Python's re."""
    schema = json.loads(schema_json)
    schema_check(schema)
    return Re2Validator(schema, format_checker=FORMAT_CHECKER, registry=NO_REMOTE_REFS)


def _schema_fault(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "The schema refers to itself without end (a $ref loop)."
    if isinstance(exc, SchemaError) and exc.validator == "format" and exc.validator_value == "regex":
        return f"The pattern {exc.instance!r} is one RE2 cannot compile (saved before patterns were checked)."
    return str(exc).splitlines()[0]


def _local_refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#") else set()
        return found.union(*(_local_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_local_refs(item) for item in node))
    return set()


def schema_reference_errors(schema: dict) -> list[str]:
    """What a (checked) schema's references run into: one that does not resolve, or one that loops
    forever on any submission. Caught when the form is saved, not when a lead submits it."""
    resolver = NO_REMOTE_REFS.with_resource("", DRAFT202012.create_resource(schema)).resolver()
    for ref in sorted(_local_refs(schema)):
        try:
            resolver.lookup(ref)
        except Unresolvable:
            return [f"The reference {ref} does not resolve inside the schema."]
    try:
        list(_validator_for(json.dumps(schema, sort_keys=True)).iter_errors({}))
    except (UnknownType, Unresolvable, RecursionError) as exc:
        return [_schema_fault(exc)]
    return []


def validate_submission(*, config, message: dict) -> dict:
    """`message.data` must satisfy the form's JSON Schema; `message.form` picks a form when there are several."""
    forms = config.forms
    if not forms:
        raise InvalidInput("This action has no form to submit.", errors={"message": ["This action has no form."]})
    form = forms[0]
    if message.get("form"):
        chosen = [module for module in forms if str(module.uuid) == str(message["form"])]
        if not chosen:
            raise InvalidInput("Unknown form.", errors={"message.form": ["Not a form of this action."]})
        form = chosen[0]
    data = message.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("The form data is missing.", errors={"data": ["Must be a JSON object."]})
    try:
        errors = _field_errors(_validator_for(form.schema_json), data)
    except (SchemaError, UnknownType, Unresolvable, RecursionError) as exc:
        # A broken schema is the company's configuration, not the lead's fault; still a clean 4xx.
        raise InvalidInput(
            "This form's schema is invalid; the company must fix it.", errors={"form": [_schema_fault(exc)]}
        ) from exc
    if errors:
        raise InvalidInput("The form data is invalid; see errors.", errors=errors)
    return {"form": str(form.uuid), "data": data}


SPEC = ActionSystemSpec(
    slug=SystemSlug.FORMS,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.SUBMITTED),
    module_kinds=frozenset({ModuleKind.FORM}),
    validate_result=validate_submission,
)
