"""Changelist filters shared by every app's admin."""
from django.contrib import admin

# Filter by company, listing only companies that have rows (there can be many companies).
COMPANY_FILTER = ("company", admin.RelatedOnlyFieldListFilter)


class NullSplitFilter(admin.SimpleListFilter):
    """Splits rows on whether `field` is empty; a subclass names the field and the two halves."""

    field: str
    when_null: tuple[str, str]  # (parameter value, label)
    when_set: tuple[str, str]

    def lookups(self, request, model_admin):
        return (self.when_null, self.when_set)

    def queryset(self, request, queryset):
        for (value, _), is_null in ((self.when_null, True), (self.when_set, False)):
            if self.value() == value:
                return queryset.filter(**{f"{self.field}__isnull": is_null})
        return queryset


class ScopeFilter(NullSplitFilter):
    """Global rows (no company) or a company's own."""

    title = "scope"
    parameter_name = "scope"
    field = "company"
    when_null = ("global", "Global")
    when_set = ("company", "A company's own")


class DeletedFilter(admin.SimpleListFilter):
    """Live rows (the default) or the soft-deleted ones, which can then be restored."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("yes", "Deleted"),)

    def choices(self, changelist):
        # Django labels the no-value choice "All"; here it means the live rows.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        yield {
            "selected": self.value() == "yes",
            "query_string": changelist.get_query_string({self.parameter_name: "yes"}),
            "display": "Deleted",
        }

    def queryset(self, request, queryset):
        return queryset.filter(deleted_at__isnull=self.value() != "yes")
