"""Templates of the slack and http kinds: JSON values whose strings name dot paths into the event payload.

A placeholder is `{{ <dot path> }}`, the dot path as receivers' mappings write it ("data.lead.email",
"data.message.items.0.sku", `$` for the whole payload; salesassist.core.dotpath reads it). A string that is
exactly one placeholder becomes the value at its path, of its own JSON type (null when the path is missing);
placeholders inside other text are replaced by the value as text ("" for a missing one, JSON for an object or
a list). Everything else in a template is sent as written.
"""
import json
import re
from collections.abc import Mapping

from salesassist.core.dotpath import WHOLE, dot_path_get

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# One step of a dot path: a key or a list index, without dots, spaces or braces.
PATH = re.compile(r"^[^.\s{}]+(\.[^.\s{}]+)*$")
MAX_PATH_LENGTH = 200
MAX_DEPTH = 10
MAX_TEMPLATE_BYTES = 64 * 1024


def _path_problem(path: str) -> str | None:
    if path == WHOLE:
        return None
    if not path:
        return "An empty placeholder: write {{ data.lead.email }}."
    if len(path) > MAX_PATH_LENGTH:
        return f"A dot path of at most {MAX_PATH_LENGTH} characters."
    if not PATH.match(path):
        return f"{path!r} is not a dot path: keys and list indexes joined by dots, e.g. data.lead.email."
    return None


def text_problems(text: str) -> list[str]:
    """Why the placeholders of one string cannot be read; empty when they can."""
    problems = []
    for match in PLACEHOLDER.finditer(text):
        if problem := _path_problem(match.group(1).strip()):
            problems.append(problem)
    rest = PLACEHOLDER.sub("", text)
    if "{{" in rest:
        problems.append("A placeholder is not closed: write {{ data.lead.email }}.")
    return problems


def template_problems(template, *, key: str) -> dict[str, list[str]]:
    """Problems of a template by the dot path of the string that has them (`<key>.<path in the template>`)."""
    try:
        size = len(json.dumps(template, ensure_ascii=False).encode())
    except (TypeError, ValueError):
        return {key: ["Must be a JSON value."]}
    if size > MAX_TEMPLATE_BYTES:
        return {key: [f"At most {MAX_TEMPLATE_BYTES // 1024} KB of JSON."]}
    errors: dict[str, list[str]] = {}

    def visit(value, at: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            errors.setdefault(at, []).append(f"Nested at most {MAX_DEPTH} levels deep.")
        elif isinstance(value, str):
            if problems := text_problems(value):
                errors[at] = problems
        elif isinstance(value, Mapping):
            for name, item in value.items():
                visit(item, f"{at}.{name}", depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{at}.{index}", depth + 1)

    visit(template, key, 0)
    return errors


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def text_render(text: str, payload) -> str:
    """The string with every placeholder replaced by its value as text."""
    return PLACEHOLDER.sub(lambda match: _as_text(dot_path_get(payload, match.group(1).strip())), text)


def template_render(template, payload):
    """The template with the payload's values in place of its placeholders (see the module's docstring)."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template.strip())
        if whole and "{{" not in whole.group(1):
            return dot_path_get(payload, whole.group(1).strip())
        return text_render(template, payload)
    if isinstance(template, Mapping):
        return {name: template_render(item, payload) for name, item in template.items()}
    if isinstance(template, list):
        return [template_render(item, payload) for item in template]
    return template
