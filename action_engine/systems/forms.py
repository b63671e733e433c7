"""The forms system: a page renders a JSON-Schema form; the result is the submitted data."""
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from action_engine.choices import ModuleKind, Stage, SystemSlug
from salesassist.core.exceptions import InvalidInput

from . import ActionSystemSpec


def _form_modules(action_company):
    from action_engine.models import ActionCompanySystemModule

    return (
        ActionCompanySystemModule.objects.filter(
            action_company=action_company, kind=ModuleKind.FORM, form__deleted_at__isnull=True
        )
        .select_related("form")
        .order_by("position", "id")
    )


def _field_errors(validator: Draft202012Validator, data: dict) -> dict[str, list[str]]:
    """Each failing field as {"data.<path>": [messages]}; a missing required field names itself."""
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                errors.setdefault(".".join(["data", *path, name]), []).append("This field is required.")
            continue
        errors.setdefault(".".join(["data", *path]), []).append(error.message)
    return errors


def validate_submission(*, action_company, message: dict) -> dict:
    """`message.data` must satisfy the form's JSON Schema; `message.form` picks a form when there are several."""
    modules = list(_form_modules(action_company))
    if not modules:
        raise InvalidInput("This action has no form to submit.", errors={"message": ["This action has no form."]})
    form = modules[0].form
    if message.get("form"):
        chosen = [module.form for module in modules if str(module.form.uuid) == str(message["form"])]
        if not chosen:
            raise InvalidInput("Unknown form.", errors={"message.form": ["Not a form of this action."]})
        form = chosen[0]
    data = message.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("The form data is missing.", errors={"data": ["Must be a JSON object."]})
    try:
        validator = Draft202012Validator(form.schema, format_checker=FormatChecker())
        errors = _field_errors(validator, data)
    except SchemaError as exc:
        # A broken schema is the company's configuration, not the lead's fault; still a clean 4xx.
        raise InvalidInput(
            "This form's schema is invalid; the company must fix it.", errors={"form": [exc.message]}
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
