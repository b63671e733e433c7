"""The model admin every domain admin builds on, and its soft-delete and read-only inline variants."""
from django.contrib import admin, messages
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.html import format_html

from .access import ViewOnlyMixin
from .filters import DeletedFilter
from .forms import ConstraintCheckingForm

TIMESTAMP_FIELDS = ("uuid", "created_at", "updated_at")


class TimestampedModelAdmin(admin.ModelAdmin):
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


class SoftDeleteAdminMixin:
    """Lists live rows (the default manager); deleting marks rows deleted and keeps their history.

    The "deleted" filter lists the deleted rows, and only there a "restore" action is offered. Every
    other page (change forms, autocomplete, deletes) sees live rows only. A mixin that limits rows
    (tenancy) comes before it, so it limits the deleted rows listed here too.
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
        perms_needed = {
            self.model._meta.verbose_name for obj in objs if not self.has_delete_permission(request, obj)
        }
        return to_delete, {self.model._meta.verbose_name_plural: len(to_delete)}, perms_needed, []


class ReadOnlyInlineMixin(ViewOnlyMixin):
    """A history inline: rows are shown, linked to their own page, never edited here."""

    extra = 0
    can_delete = False
    show_change_link = True
