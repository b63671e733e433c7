"""The RE2 dialect of JSON Schema (salesassist/core/json_schema.py) on its own: escapes, odd text, dialect pinning."""

import pytest
from jsonschema.exceptions import SchemaError

from salesassist.core.json_schema import (
    FORMAT_CHECKER,
    Re2Validator,
    ecma_to_re2,
    pattern_search,
    schema_check,
    schema_pattern_errors,
)


@pytest.mark.parametrize(
    ("pattern", "translated"),
    [
        ("^[a-z]+$", "^[a-z]+$"),
        ("\\u00e9", "\\x{E9}"),
        ("[\\u0041-\\u005A]", "[\\x{41}-\\x{5A}]"),
        ("\\uD83D\\uDE00", "\\x{1F600}"),  # a surrogate pair is one code point
        ("\\\\u0041", "\\\\u0041"),  # an escaped backslash, then the letters "u0041"
        ("\\u12", "\\u12"),  # not an escape RE2 knows either: it refuses it
    ],
)
def test_ecma_unicode_escapes_become_re2_escapes(pattern, translated):
    assert ecma_to_re2(pattern) == translated


def test_a_string_with_a_lone_surrogate_matches_no_pattern_and_raises_nothing():
    assert pattern_search(".*", "ok")
    assert not pattern_search(".*", "\ud800")


def test_a_pattern_that_skipped_the_schema_check_is_a_schema_error_not_python_re():
    with pytest.raises(SchemaError, match="RE2 cannot compile"):
        pattern_search("(a)\\1", "aa")


@pytest.mark.parametrize(
    "dialect", ["http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"]
)
def test_a_subschema_declaring_a_dialect_is_still_validated_by_re2(dialect):
    validator = Re2Validator({"type": "object"}, format_checker=FORMAT_CHECKER)
    assert type(validator.evolve(schema={"$schema": dialect, "pattern": "a"})) is Re2Validator


def test_format_regex_in_data_means_a_pattern_re2_compiles():
    schema = {"type": "object", "properties": {"rule": {"type": "string", "format": "regex"}}}
    schema_check(schema)
    validator = Re2Validator(schema, format_checker=FORMAT_CHECKER)
    assert validator.is_valid({"rule": "^a+$"})
    assert not validator.is_valid({"rule": "(a)\\1"})


def test_only_real_patterns_are_checked_not_properties_named_pattern():
    schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "patternProperties": {"type": "object"}},
        "examples": [{"pattern": "(a)\\1"}],
    }
    assert schema_pattern_errors(schema) == []
    schema_check(schema)
