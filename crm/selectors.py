"""Reads of the CRM domain that are more than a queryset."""
from collections.abc import Iterator

from django.db.models import QuerySet

from .models import Lead

LEAD_EXPORT_COLUMNS = (
    ("uuid", "uuid"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("owner", "owner__username"),
    ("status", "status"),
    ("source", "source"),
    ("custom_fields", "custom_fields"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
LEAD_EXPORT_CHUNK_SIZE = 2000


def lead_export(*, leads: QuerySet[Lead]) -> tuple[list[str], Iterator[tuple]]:
    """The leads as a table: the header, and the rows as values read in chunks while they are consumed."""
    values = leads.values_list(*(path for _, path in LEAD_EXPORT_COLUMNS))
    return [name for name, _ in LEAD_EXPORT_COLUMNS], values.iterator(chunk_size=LEAD_EXPORT_CHUNK_SIZE)
