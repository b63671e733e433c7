"""Forms: JSON Schema definitions that a forms action page renders."""
from jsonschema import SchemaError

from action_engine.errors import ActionEngineError
from action_engine.models import ActionCompanySystemModule, Form
from action_engine.systems.forms import schema_reference_errors
from crm.models import Company
from salesassist.core.exceptions import Conflict, InvalidInput
from salesassist.core.json_schema import schema_check, schema_pattern_errors

FORM_FIELDS = ("name", "description", "schema", "submit_label", "success_message")


def form_schema_errors(schema) -> list[str]:
    """Why `schema` is not a usable form: not a JSON Schema (draft 2020-12), a pattern RE2 cannot compile
    (each named by its JSON path), not of type object, or references that go outside it or nowhere."""
    if not isinstance(schema, dict):
        return ["Must be a JSON object."]
    pattern_errors = schema_pattern_errors(schema)
    if pattern_errors:
        return pattern_errors
    try:
        schema_check(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        return [f"Not a valid JSON Schema (draft 2020-12){' at ' + where if where else ''}: {exc.message}"]
    if schema.get("type") != "object":
        return ['A form schema must have "type": "object".']
    remote = sorted(_schema_remote_refs(schema))
    if remote:
        return [f'Only references inside the schema ("#/...") are allowed, not {", ".join(remote)}.']
    return schema_reference_errors(schema)


def _schema_remote_refs(node) -> set[str]:
    """The "$ref"/"$dynamicRef" values of a schema that point outside it (they are never fetched)."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                found.add(value)
            else:
                found |= _schema_remote_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _schema_remote_refs(item)
    return found


def _form_save(*, form: Form) -> Form:
    errors = form_schema_errors(form.schema)
    if errors:
        raise InvalidInput(
            "The form schema is invalid.", code=ActionEngineError.INVALID_SCHEMA, errors={"schema": errors}
        )
    form.save()
    return form


def form_create(*, company: Company, **fields) -> Form:
    """A new form of the company; its schema must be a JSON Schema of type object."""
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise TypeError(f"form_create() got unexpected fields {sorted(unknown)}")
    return _form_save(form=Form(company=company, **fields))


def form_update(*, form: Form, **fields) -> Form:
    """Change a form; the schema is validated again."""
    for name, value in fields.items():
        if name not in FORM_FIELDS:
            raise TypeError(f"form_update() got an unexpected field {name!r}")
        setattr(form, name, value)
    return _form_save(form=form)


def form_delete_check(*, form: Form) -> None:
    """A form that alive company actions show stays (Conflict)."""
    used_by = ActionCompanySystemModule.objects.filter(form=form, action_company__deleted_at__isnull=True)
    if used_by.exists():
        raise Conflict("Company actions still show this form; detach it first.", code=ActionEngineError.IN_USE)


def form_soft_delete(*, form: Form) -> Form:
    """Hide a form that no alive company action shows."""
    form_delete_check(form=form)
    form.delete()
    return form
