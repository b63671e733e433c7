"""The OpenAPI schemas made as strict about input as the server is (drf-spectacular extensions and a hook).

drf-spectacular's defaults describe a more lenient API than this one: request bodies that allow unknown keys,
JSON fields that allow null, a decimal pattern that allows "" and "-". These extensions and the postprocessing
hook make the schemas say what the server does (tests/schema/test_schemathesis.py checks they agree).
The server side of each rule is in salesassist/core/api.py (StrictFieldsMixin), pagination.py and filters.py.
"""
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers

from .api import StrictFieldsMixin, decimal_pattern

PROBLEM_COMPONENT = "ProblemDetails"  # salesassist.core.errors.ProblemDetailsSerializer


class StrictSerializerSchema(OpenApiSerializerExtension):
    """A strict serializer's request body refuses keys it does not list: `additionalProperties: false`."""

    target_class = StrictFieldsMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class JSONFieldSchema(OpenApiSerializerFieldExtension):
    """A JSON object (what every JSON field here holds, and what a strict serializer takes: JSON_TYPES), where
    drf-spectacular says `{}`, any value, null included. drf-spectacular adds `nullable` where allow_null is set."""

    target_class = serializers.JSONField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "object", "additionalProperties": {}}


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal string with at least one digit, no sign where negatives are refused (the server checks the same
    pattern: salesassist.core.api.decimal_pattern)."""

    target_class = serializers.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(self.target)
        return schema


def document_page_past_the_end(result, generator, request, public):
    """A drf-spectacular postprocessing hook: every list with a `page` parameter documents the 404 its
    paginator answers for a page past the end (salesassist/core/pagination.py)."""
    problem = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters", [])
            names = {parameter.get("name") for parameter in parameters if parameter.get("in") == "query"}
            if "page" in names and "404" not in operation.get("responses", {}):
                operation["responses"]["404"] = {
                    "description": "No such page: the list ends before it.",
                    "content": {"application/problem+json": {"schema": problem}},
                }
    return result

