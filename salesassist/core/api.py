"""Building blocks every API view shares: uuid routes and lookups, strict input, schema helpers."""
import re
from collections.abc import Mapping

from django.db import models
from django.urls import URLPattern
from django.urls.resolvers import RoutePattern
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import routers, serializers

from .errors import problem_responses
from .parsers import has_null_character
from .uuids import CANONICAL_UUID_MESSAGE, CANONICAL_UUID_PATTERN, canonical_uuid

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class OptionalSlashRouter(routers.SimpleRouter):
    """A router whose routes match with or without a trailing slash: no redirect, no 404 either way.

    DRF's SimpleRouter turns any truthy `trailing_slash` into "/", so "/?" has to be set after __init__.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


class OptionalSlashRoutePattern(RoutePattern):
    """A path() route that also matches with one trailing slash more (or less), as the routers' routes do."""

    def match(self, path):
        found = super().match(path)
        if found is None and self._is_endpoint:
            if path.endswith("/") and not str(self._route).endswith("/"):
                found = super().match(path[:-1])
            elif not path.endswith("/") and str(self._route).endswith("/"):
                found = super().match(f"{path}/")
        return found


def optional_slash(patterns: list) -> list:
    """The same path() patterns, each answering with or without a trailing slash (no redirect, no 404).

    The route itself is unchanged, so reverse() and the OpenAPI schema still show one path.
    """
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and type(pattern.pattern) is RoutePattern:
            route = pattern.pattern
            pattern.pattern = OptionalSlashRoutePattern(route._route, name=route.name, is_endpoint=True)
    return patterns


@extend_schema_field({"type": "string", "format": "uuid", "pattern": CANONICAL_UUID_PATTERN})
class UuidField(serializers.UUIDField):
    """A uuid in a body or query, in canonical form only (salesassist/core/uuids.py); every API uses this one."""

    default_error_messages = {"invalid": CANONICAL_UUID_MESSAGE}

    def to_internal_value(self, data):
        value = canonical_uuid(data)
        if value is None:
            self.fail("invalid")
        return value


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings `field` takes: digits (at least one) within its precision, a "-" only where
    negatives are allowed. The OpenAPI schema shows the same pattern (salesassist/core/schema.py)."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole = "0" if field.max_whole_digits == 0 else rf"\d{{1,{field.max_whole_digits}}}"
    if not field.decimal_places:
        return rf"^{sign}{whole}$"
    return rf"^{sign}{whole}(?:\.\d{{1,{field.decimal_places}}})?$"


# The JSON type a field of each kind takes, as its OpenAPI schema says: DRF would also take 1 or "true" for
# a boolean, "5" for an integer, 5 for a string or a uuid, a list for a JSON field (order matters: subclasses
# first).
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.DecimalField, (str,), "a decimal string"),
    (serializers.MultipleChoiceField, (list,), "a list"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.CharField, (str,), "a string"),
    (serializers.UUIDField, (str,), "a uuid string"),
    (serializers.DateTimeField, (str,), "a date-time string"),
    (serializers.DateField, (str,), "a date string"),
    (serializers.SlugRelatedField, (str,), "a string"),
    (serializers.JSONField, (dict,), "a JSON object"),
)


def json_type_error(field, value) -> str | None:
    """Why `value` is not of the JSON type `field` takes, or None (null is left to the field's allow_null)."""
    if value is None:
        return None
    if value == "" and isinstance(field, serializers.RelatedField):
        # DRF reads "" as null for a nullable relation; the schema says a name or null.
        return "Must not be empty; send null for none."
    for field_class, types, name in JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return f"Must be {name}."
            if not isinstance(value, types):
                return f"Must be {name}."
            if isinstance(field, serializers.DecimalField) and not re.fullmatch(decimal_pattern(field), value):
                return "Must be a decimal string within the field's precision, e.g. \"19.90\"."
            if isinstance(field, serializers.CharField) and field.max_length and len(value) > field.max_length:
                # Counted as sent, as the schema's maxLength is (DRF would count it after trimming spaces).
                return f"Ensure this field has no more than {field.max_length} characters."
            return None
    return None


class JsonTypesMixin:
    """A serializer whose every value must be of the JSON type its field's schema says: a JSON boolean for a
    boolean (no 0 or "true"), a string for a string (no 5), an object for a JSON field (JSON_TYPES)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                key: [type_error]
                for key, value in data.items()
                if key in self.fields and (type_error := json_type_error(self.fields[key], value))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictFieldsMixin:
    """A serializer that refuses keys it does not accept: a typo or a read-only field is a 400, not ignored.

    Each value must be of the JSON type its field's schema says (a JSON boolean for a boolean, no 0 or
    "true"). It also refuses NUL characters anywhere in a field, JSON fields included: PostgreSQL cannot
    store them.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    errors[key] = ["Unknown field."]
                elif field.read_only:
                    errors[key] = ["This field is read-only."]
                elif has_null_character(data[key]):
                    errors[key] = ["Null characters are not allowed."]
                elif type_error := json_type_error(field, data[key]):
                    errors[key] = [type_error]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A plain input serializer that refuses unknown keys."""


class QuerySerializer(serializers.Serializer):
    """The filters of a query string, as strict as their schema: a parameter sent empty (`?stage=`) is refused
    like any other invalid value, where DRF would skip it as absent, unless its field allows blank."""

    def to_internal_value(self, data):
        empty = {
            name: ["Must not be empty."]
            for name, field in self.fields.items()
            if data.get(name) == "" and not getattr(field, "allow_blank", False)
        }
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A model serializer that refuses unknown keys; a model's uuid fields take canonical uuids only."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.UUIDField: UuidField}


@extend_schema_field({"type": "string", "format": "uuid", "pattern": CANONICAL_UUID_PATTERN})
class UuidRelatedField(serializers.SlugRelatedField):
    """A related object named by its uuid, in canonical form."""

    default_error_messages = {
        "does_not_exist": "No such object: {value}.",
        "invalid": CANONICAL_UUID_MESSAGE,
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="uuid", **kwargs)

    def to_internal_value(self, data):
        value = canonical_uuid(data)
        if value is None:
            self.fail("invalid")
        try:
            return self.get_queryset().get(uuid=value)
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", value=value)


def uuid_path_parameter(name: str, description: str) -> OpenApiParameter:
    """The OpenAPI description of a `{name}` uuid segment in a nested route."""
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=description)


# --- OpenAPI ----------------------------------------------------------------------------------------

READ_PROBLEMS = (401, 403, 404)
WRITE_PROBLEMS = (400, 401, 403, 404, 415)
CRUD_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")


def crud_schema(
    *,
    operation_prefix: str,
    noun: str,
    serializer,
    tag: str,
    actions=CRUD_ACTIONS,
    parameters=(),
    list_parameters=(),
    destroy_description: str = "",
):
    """`extend_schema_view` for a model viewset: operation ids, summaries, tags and every problem answer.

    `operation_prefix` is plural snake case ("leads"); `noun` is the singular for summaries ("lead").
    `parameters` go on every operation (e.g. a nested route's parent uuid), `list_parameters` on the list.
    """
    nested = bool(parameters)
    docs = {
        "list": dict(
            operation_id=f"{operation_prefix}_list",
            summary=f"List {noun} records",
            parameters=[*parameters, *list_parameters],
            responses={200: serializer(many=True), **problem_responses(400, 401, 403, *((404,) if nested else ()))},
        ),
        "retrieve": dict(
            operation_id=f"{operation_prefix}_retrieve",
            summary=f"Read one {noun}",
            responses={200: serializer, **problem_responses(*READ_PROBLEMS)},
        ),
        "create": dict(
            operation_id=f"{operation_prefix}_create",
            summary=f"Create a {noun}",
            responses={201: serializer, **problem_responses(*WRITE_PROBLEMS)},
        ),
        "update": dict(
            operation_id=f"{operation_prefix}_update",
            summary=f"Replace a {noun}",
            responses={200: serializer, **problem_responses(*WRITE_PROBLEMS)},
        ),
        "partial_update": dict(
            operation_id=f"{operation_prefix}_partial_update",
            summary=f"Change some fields of a {noun}",
            responses={200: serializer, **problem_responses(*WRITE_PROBLEMS)},
        ),
        "destroy": dict(
            operation_id=f"{operation_prefix}_destroy",
            summary=f"Delete a {noun}",
            description=destroy_description,
            responses={204: None, **problem_responses(401, 403, 404, 409)},
        ),
    }
    decorators = {}
    for action in actions:
        kwargs = docs[action]
        kwargs.setdefault("parameters", list(parameters))
        decorators[action] = extend_schema(tags=[tag], **kwargs)
    return extend_schema_view(**decorators)


def nested_schema(*, tag: str, parameters, **operations):
    """`extend_schema_view` for a nested route: every operation gets the tag and the parent's path
    parameters (an operation may list its own `parameters` instead); `operations` maps action names
    to `extend_schema` keyword arguments."""
    return extend_schema_view(
        **{
            action: extend_schema(tags=[tag], **{"parameters": list(parameters), **kwargs})
            for action, kwargs in operations.items()
        }
    )
