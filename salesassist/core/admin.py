"""Admin building blocks every app's admin uses, and the admin of the core models."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html
from django_hosts.resolvers import reverse as host_reverse

from .exceptions import DomainError
from .models import WorkerHeartbeat

TIMESTAMP_FIELDS = ("uuid", "created_at", "updated_at")
# Filter by company, listing only companies that have rows (there can be many companies).
COMPANY_FILTER = ("company", admin.RelatedOnlyFieldListFilter)


class ConstraintCheckingForm(forms.ModelForm):
    """A model form that also checks the database constraints mentioning fields it does not edit.

    Django skips a constraint when one of its fields (or a field in its condition) is not on the
    form; every soft-delete uniqueness condition mentions `deleted_at`, so without this a clash
    would reach the database and answer a 500 instead of a form error.
    """

    # Fields the model fills itself: their values on the instance are already right for the check.
    model_filled_fields = ("deleted_at",)
    # constraint name -> (form field, message), for clashes people should read as a sentence.
    constraint_messages: dict[str, tuple[str, str]] = {}

    def validate_unique(self):
        super().validate_unique()
        if self._errors:  # the normal pass already reported; don't report the same clash twice
            return
        model = self.instance._meta.model
        exclude = self._get_validation_exclusions() - set(self.model_filled_fields)
        for constraint in self.instance._meta.constraints:
            try:
                constraint.validate(model, self.instance, exclude=exclude, using=router.db_for_write(model))
            except ValidationError as error:
                field, message = self.constraint_messages.get(constraint.name, (None, error))
                self.add_error(field if field in self.fields else None, message)


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


class BaseModelAdmin(admin.ModelAdmin):
    """uuid and timestamps are shown read-only on every page; constraints are checked as form errors."""

    form = ConstraintCheckingForm
    list_per_page = 50
    # Tables grow large: don't count every row on each changelist page.
    show_full_result_count = False
    # Django 6 makes https the default scheme of typed URLs; use it now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [name for name in TIMESTAMP_FIELDS if name not in fields]


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


class SoftDeleteModelAdmin(BaseModelAdmin):
    """Lists live rows (the default manager); deleting marks rows deleted and keeps their history.

    The "deleted" filter lists the deleted rows, and only there a "restore" action is offered. Every
    other page (change forms, autocomplete, deletes) sees live rows only.
    """

    def _lists_deleted_rows(self, request) -> bool:
        opts = self.model._meta
        changelist = f"{opts.app_label}_{opts.model_name}_changelist"
        match = request.resolver_match
        return request.GET.get(DeletedFilter.parameter_name) == "yes" and match and match.url_name == changelist

    def get_queryset(self, request):
        if not self._lists_deleted_rows(request):
            return super().get_queryset(request)
        queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_list_filter(self, request):
        return (DeletedFilter, *super().get_list_filter(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self._lists_deleted_rows(request) and self.has_change_permission(request):
            actions["restore_selected"] = self.get_action("restore_selected")
        return actions

    @admin.action(description="Restore selected %(verbose_name_plural)s")
    def restore_selected(self, request, queryset):
        restored, refused = 0, []
        for obj in queryset.filter(deleted_at__isnull=False):
            try:
                # A live row may have taken its slug, SKU or email meanwhile: that one stays deleted.
                with transaction.atomic():
                    self.model.all_objects.filter(pk=obj.pk).update(deleted_at=None, updated_at=timezone.now())
                restored += 1
            except IntegrityError:
                refused.append(str(obj))
        self.message_user(request, f"Restored {restored}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"Not restored, a live row has the same unique value (slug, SKU, email…): {', '.join(refused)}.",
                messages.WARNING,
            )

    def get_deleted_objects(self, objs, request):
        # A soft delete touches only the rows themselves: no cascade to list, no protected history
        # (engagements, deliveries) blocking it.
        to_delete = [format_html("{}: {}", obj._meta.verbose_name.capitalize(), obj) for obj in objs]
        return to_delete, {self.model._meta.verbose_name_plural: len(to_delete)}, set(), []


class ViewOnlyMixin:
    """Staff can look, never add, change or delete (history rows, rows the system writes)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryModelAdmin(ViewOnlyMixin, BaseModelAdmin):
    """Append-only history: view only."""


class UniqueRowsFormSet(BaseInlineFormSet):
    """Refuses two submitted rows that clash on one of the model's conditional unique constraints.

    Django's formset compares rows on unconditional constraints only. Our conditions only leave out
    empty values (no SKU, no reference), so rows with an empty value in the constraint are skipped.
    """

    def clean(self):
        super().clean()
        for constraint in self.model._meta.constraints:
            if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is None:
                continue
            fields = [name for name in constraint.fields if name != self.fk.name]
            seen = set()
            for form in self.forms:
                cleaned_data = getattr(form, "cleaned_data", None)
                if not cleaned_data or cleaned_data.get("DELETE"):
                    continue
                key = tuple(cleaned_data.get(name) for name in fields)
                if not key or any(value in (None, "") for value in key):
                    continue
                if key in seen:
                    form.add_error(fields[0] if fields[0] in form.fields else None, "Another row has the same value.")
                seen.add(key)


class ReceivedCallAdmin(HistoryModelAdmin):
    """Raw calls to an inbound URL (lead receivers, company action receivers), with headers and error
    shown as indented JSON."""

    list_filter = ("outcome", COMPANY_FILTER, "created_at")
    date_hierarchy = "created_at"
    exclude = ("headers", "error")
    readonly_fields = ("headers_display", "error_display")

    @admin.display(description="headers")
    def headers_display(self, obj):
        return pretty_json(obj.headers)

    @admin.display(description="error")
    def error_display(self, obj):
        return pretty_json(obj.error) if obj.error else "—"

    # Replaying: a subclass names who may (replaying writes what its receiver writes) and its services.
    actions = ("replay_calls",)
    replay_permission = ""
    not_replayable_because = "processed already"

    def is_replayable(self, stored) -> bool:
        raise NotImplementedError

    def replay(self, stored):
        """Replay one stored call through its service; return the stored row with its new outcome."""
        raise NotImplementedError

    def has_replay_permission(self, request):
        return request.user.has_perm(self.replay_permission)

    @admin.action(description="Replay selected failed %(verbose_name_plural)s", permissions=["replay"])
    def replay_calls(self, request, queryset):
        counts = {"processed": 0, "failed": 0, "skipped": 0}
        for stored in queryset.order_by("created_at", "id"):
            if not self.is_replayable(stored):
                counts["skipped"] += 1
                continue
            try:
                counts[self.replay(stored).outcome] += 1
            except DomainError:
                counts["skipped"] += 1  # replayed meanwhile by someone else
        level = messages.SUCCESS if not counts["failed"] else messages.WARNING
        self.message_user(
            request,
            f"Replayed: {counts['processed']} processed, {counts['failed']} failed again, "
            f"{counts['skipped']} not replayable ({self.not_replayable_because}).",
            level,
        )


class RecentRowsFormSet(BaseInlineFormSet):
    """Only the newest `recent_limit` rows of the inline (the model's ordering is newest first)."""

    recent_limit = 20

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = self.queryset[: self.recent_limit]


class ReadOnlyTabularInline(ViewOnlyMixin, admin.TabularInline):
    """A history inline: rows are shown, linked to their own page, never edited here."""

    extra = 0
    can_delete = False
    show_change_link = True


class RecentCallsInline(ReadOnlyTabularInline):
    """The newest raw calls a receiver stored (the calls model names its receiver `receiver`)."""

    formset = RecentRowsFormSet
    fk_name = "receiver"
    verbose_name_plural = f"recent calls (newest {RecentRowsFormSet.recent_limit})"


def adopt_saved_row(obj, saved) -> None:
    """Turn the admin's unsaved `obj` into the row a service just created.

    Adds that must go through a service (which makes related rows in the same transaction) call it
    from `save_model`; the add view's inline formsets, log entry and redirect then see the new row.
    """
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def host_url_link(view_name: str, host: str, **kwargs) -> str:
    """A link to a URL of another host (an API's public receiver URL, say).

    It is scheme-relative ("//api.crm.example.com/…"): the browser completes it with the scheme the
    admin is served on, so "copy link" gives the full URL to hand to a third party.
    """
    url = host_reverse(view_name, host=host, kwargs=kwargs)
    return format_html('<a href="{}">{}</a>', url, url.removeprefix("//"))


def pretty_json(value) -> str:
    """JSON indented inside <pre>, for read-only display of bodies and payloads."""
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """When each django-q2 worker last beat; written by the worker only."""

    list_display = ("name", "beat_at")
    search_fields = ("name",)
