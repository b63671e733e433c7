"""JSON Schema (draft 2020-12) for schemas a tenant writes: every regular expression in them runs on RE2.

Python's `re` backtracks: a pattern such as `^(a+)+$` takes exponential time on a value of a few dozen
characters, and nothing interrupts it (a web worker is simply lost). RE2 matches in time linear in the
value, and refuses what cannot be matched that way (backreferences, lookaround). So in `Re2Validator`:

- `pattern` and `patternProperties`, and `additionalProperties` / `unevaluatedProperties` (which depend on
  the keys `patternProperties` matched), search with RE2;
- `format: "regex"` means "a pattern RE2 compiles", for the patterns of a schema and for data alike;
- a subschema's `"$schema"` does not switch validation to another class: jsonschema would pick its stock
  class for that dialect, whose keywords run Python's `re`.

Everything else is jsonschema's draft 2020-12. `pattern` stays an unanchored search. Patterns are read as
JSON Schema's dialect (ECMA-262) wherever RE2 can: `\\uXXXX` escapes (surrogate pairs too) become RE2's
`\\x{...}`, and `\\d`, `\\w`, `\\b` are ASCII and `$` is the end of the value, as in ECMA-262.
"""

from collections.abc import Iterator
from functools import lru_cache

import attrs
import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError

_OPTIONS = re2.Options()
# RE2 would print every refused pattern to stderr; a refusal is reported to whoever wrote the pattern.
_OPTIONS.log_errors = False
# Each compiled pattern (program and match cache) stays within about 1 MiB, so the cache below holds at most
# 256 MiB whatever tenants write; form patterns need kilobytes, and a search whose cache fills goes on
# in linear time (RE2 falls back to its NFA). A pattern too large for it is refused at save.
_OPTIONS.max_mem = 1 << 20
PATTERN_CACHE_SIZE = 256

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class UnsupportedPattern(ValueError):
    """RE2 cannot compile the pattern: a backreference, a lookaround, a repetition over 1000, bad syntax..."""


def _unicode_escape(pattern: str, index: int) -> int | None:
    """The code unit of a `\\uXXXX` escape starting at `index`, if there is one."""
    digits = pattern[index + 2 : index + 6]
    if pattern.startswith("\\u", index) and len(digits) == 4 and set(digits) <= _HEX_DIGITS:
        return int(digits, 16)
    return None


def ecma_to_re2(pattern: str) -> str:
    """ECMA-262's `\\uXXXX` escapes, which RE2 does not know, as RE2's `\\x{...}`; a surrogate pair of
    escapes is the one character it encodes in UTF-16. Every other escape is left as it is."""
    if "\\u" not in pattern:
        return pattern
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] != "\\":
            out.append(pattern[index])
            index += 1
            continue
        unit = _unicode_escape(pattern, index)
        if unit is None:
            out.append(pattern[index : index + 2])  # any other escape, e.g. `\\u` itself
            index += 2
            continue
        low = _unicode_escape(pattern, index + 6) if 0xD800 <= unit <= 0xDBFF else None
        if low is not None and 0xDC00 <= low <= 0xDFFF:
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            index += 6
        out.append(f"\\x{{{unit:X}}}")
        index += 6
    return "".join(out)


@lru_cache(maxsize=PATTERN_CACHE_SIZE)
def pattern_compile(pattern: str) -> re2._Regexp:
    """The pattern compiled by RE2 (cached: one form's patterns serve every submission); UnsupportedPattern
    with RE2's reason when it cannot be."""
    try:
        return re2.compile(ecma_to_re2(pattern), _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "cannot compile"
        reason = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise UnsupportedPattern(reason) from None


def pattern_search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text` (JSON Schema's `pattern` is not anchored), in linear time."""
    try:
        compiled = pattern_compile(pattern)
    except UnsupportedPattern as exc:
        # Only a schema that skipped schema_check gets here; never fall back to Python's re.
        raise SchemaError(f"RE2 cannot compile the pattern {pattern!r}: {exc}") from exc
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800" is valid JSON) is not text RE2 can read, nor that any column stores.
        return False


# --- the keywords ---------------------------------------------------------------------------------
# Each mirrors jsonschema 4.26's own (jsonschema/_keywords.py, _utils.py) with RE2 in place of `re`.


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not pattern_search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if pattern_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_keys(instance: dict, schema: dict) -> Iterator[str]:
    """The keys of `instance` that neither `properties` nor `patternProperties` of `schema` cover."""
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for key in instance:
        if key not in properties and not any(pattern_search(pattern, key) for pattern in patterns):
            yield key


def _extras_message(extras: list) -> str:
    verb = "was" if len(extras) == 1 else "were"
    return f"{', '.join(repr(extra) for extra in extras)} {verb} unexpected"


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    extras = set(_additional_keys(instance, schema))
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(extra) for extra in sorted(extras))
            patterns = ", ".join(repr(pattern) for pattern in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({_extras_message(sorted(extras, key=str))})")


def _is_valid(errors) -> bool:
    return next(errors, None) is None


def _evaluated_keys(validator, instance: dict, schema) -> list:
    """The keys of `instance` that `schema` evaluates (for `unevaluatedProperties`): jsonschema's
    find_evaluated_property_keys_by_schema, with RE2 for `patternProperties`."""
    if validator.is_type(schema, "boolean"):
        return []
    evaluated: list = []
    for keyword in ("$ref", "$dynamicRef"):
        if (reference := schema.get(keyword)) is not None:
            resolved = validator._resolver.lookup(reference)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            evaluated += _evaluated_keys(evolved, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        evaluated += properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            evaluated += (key for key, value in instance.items() if _is_valid(validator.descend(value, subschema)))
    for pattern in schema.get("patternProperties", {}):
        evaluated += (key for key in instance if pattern_search(pattern, key))
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            evaluated += _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _is_valid(validator.descend(instance, subschema)):
                evaluated += _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            evaluated += _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                evaluated += _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            evaluated += _evaluated_keys(validator, instance, schema["else"])
    return evaluated


def _unevaluated_properties(validator, unevaluated, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    failing = [
        key
        for key in instance
        if key not in evaluated
        and not _is_valid(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if failing and unevaluated is False:
        yield ValidationError(f"Unevaluated properties are not allowed ({_extras_message(sorted(failing, key=str))})")
    elif failing:
        yield ValidationError(
            "Unevaluated properties are not valid under the given schema "
            f"({_extras_message(failing)} unevaluated and invalid)"
        )


def _is_re2_pattern(instance) -> bool:
    if isinstance(instance, str):
        pattern_compile(instance)
    return True


# Building a FormatChecker registers every known format: done once. "regex" is RE2's dialect here.
FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("regex", raises=UnsupportedPattern)(_is_re2_pattern)

Re2Validator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
    },
    format_checker=FORMAT_CHECKER,
)


def _evolve_in_this_dialect(self, **changes):
    """jsonschema's evolve (every descent into a subschema) takes the class of the subschema's "$schema";
    this one keeps Re2Validator, so no "$schema" in a tenant's schema brings back Python's re."""
    changes.setdefault("schema", self.schema)
    for field in attrs.fields(type(self)):
        if field.init and field.alias not in changes:
            changes[field.alias] = getattr(self, field.name)
    return type(self)(**changes)


Re2Validator.evolve = _evolve_in_this_dialect


def schema_check(schema) -> None:
    """SchemaError unless `schema` is a draft 2020-12 schema whose every pattern RE2 compiles."""
    Re2Validator.check_schema(schema, format_checker=FORMAT_CHECKER)


def _json_path(parts) -> str:
    # RFC 6901 escaping, so a patternProperties key with a "/" still names one place.
    return "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def schema_pattern_errors(schema) -> list[str]:
    """Each regular expression of `schema` (a `pattern`, a `patternProperties` key) that RE2 cannot compile,
    as "<JSON path>: <why>"; [] when there is none."""
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=FORMAT_CHECKER)
    found = []
    for error in meta.iter_errors(schema):
        if error.validator != "format" or error.validator_value != "regex":
            continue
        path = list(error.absolute_path)
        if list(error.relative_schema_path)[-2:-1] == ["propertyNames"]:
            path.append(error.instance)  # a patternProperties key: name it, not just its object
        found.append(
            f"{_json_path(path)}: RE2 cannot compile this pattern ({error.cause}); "
            "patterns have no backreferences or lookaround and repeat at most 1000 times."
        )
    return found
