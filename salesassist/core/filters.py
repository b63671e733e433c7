"""Query filters shared by the API lists (django-filter)."""

from datetime import timezone as dt_timezone

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from .uuids import CANONICAL_UUID_MESSAGE, canonical_uuid


class ComparableIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time the database can compare: one that leaves years 1-9999 once in UTC is a 400, not
    an OverflowError (SQLite's adapter converts it to UTC)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.tzinfo is not None:
            try:
                value.astimezone(dt_timezone.utc)
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
