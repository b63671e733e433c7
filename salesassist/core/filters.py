"""Query filters shared by the API lists (django-filter)."""

from datetime import timezone as dt_timezone

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from .uuids import CANONICAL_UUID_MESSAGE, canonical_uuid


class ComparableIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time the database can compare: one that leaves years 1-9999 once in UTC is a 400, not
    an OverflowError (SQLite's adapter converts it to UTC)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.tzinfo is not None:
            try:
                # In UTC: PostgreSQL refuses offsets past ±15:59 (+20:33 is a valid ISO 8601 time).
                value = value.astimezone(dt_timezone.utc)
            except OverflowError as exc:
                raise forms.ValidationError("This time is out of range.", code="invalid") from exc
        return value


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = ComparableIsoDateTimeField


class CanonicalUuidFormField(forms.UUIDField):
    """A uuid in a query string, in canonical form only (salesassist/core/uuids.py)."""

    default_error_messages = {"invalid": CANONICAL_UUID_MESSAGE}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = canonical_uuid(value)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class UuidFilter(django_filters.UUIDFilter):
    """Filter by a related row's uuid; every list's uuid filters use this one."""

    field_class = CanonicalUuidFormField


class StrictDjangoFilterBackend(DjangoFilterBackend):
    """django-filter, with each filter's query parameter taking only what its OpenAPI schema says.

    django-filter skips an empty filter (`?lead=`) as if it were absent, reads `?is_active=null` or `=1` as
    a boolean, and takes the last of a repeated parameter, while the schema says a uuid, a date-time, a
    boolean (true or false) or one of some choices, once. Those are 400s here. A free-text filter
    (CharFilter) still takes "", and a multiple-choice filter may repeat.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, query_filter in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if len(values) > 1 and not isinstance(query_filter, django_filters.MultipleChoiceFilter):
                errors[name] = ["Give this parameter once."]
            elif isinstance(query_filter, django_filters.BooleanFilter) and values[0] not in ("true", "false"):
                errors[name] = ["Must be true or false."]
            elif "" in values and not isinstance(query_filter, django_filters.CharFilter):
                errors[name] = ["This parameter needs a value."]
        if errors:
            raise ValidationError(errors)
        return filterset
