"""A uuid enters the APIs in one spelling only: through the kernel's UuidField, UuidRelatedField and UuidFilter."""
import ast
import uuid
from pathlib import Path

import pytest

from salesassist.core.uuids import canonical_uuid

ROOT = Path(__file__).resolve().parents[2]
APPS = ("crm", "products", "action_engine", "workflows", "salesassist")
# DRF's and django-filter's own uuid inputs take integers, braces, urn:uuid: and 32 bare hex digits.
LENIENT = {("serializers", "UUIDField"), ("django_filters", "UUIDFilter")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91", uuid.UUID("0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91")),
        ("0B5F3D52-4C4E-4F0E-9A53-5A2A6C7E8D91", uuid.UUID("0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91")),
        ("0b5f3d524c4e4f0e9a535a2a6c7e8d91", None),
        ("{0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91}", None),
        ("urn:uuid:0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91", None),
        ("0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91\n", None),
        (1, None),
        (uuid.UUID("0b5f3d52-4c4e-4f0e-9a53-5a2a6c7e8d91"), None),
        (None, None),
    ],
)
def test_canonical_uuid(value, expected):
    assert canonical_uuid(value) == expected


def test_no_api_takes_a_uuid_through_the_lenient_fields():
    used = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.is_relative_to(ROOT / "salesassist" / "core"):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    if (node.value.id, node.attr) in LENIENT:
                        used.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert used == []
