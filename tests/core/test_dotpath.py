"""Dot paths into posted JSON, as receivers' mappings name fields."""

import pytest

from salesassist.core.dotpath import dot_path_get

PAYLOAD = {"contact": {"emails": ["a@example.com", "b@example.com"]}, "n": 1}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("contact.emails.1", "b@example.com"),
        ("contact.emails.2", None),
        ("contact.missing", None),
        ("$", PAYLOAD),
        # str.isdigit() says yes to these; they are not indexes, and must not crash a receiver.
        ("contact.emails.\u00b2", None),
        ("contact.emails." + "1" * 5000, None),
        ("contact.emails.-1", None),
    ],
)
def test_dot_path_get(path, value):
    assert dot_path_get(PAYLOAD, path) == value
