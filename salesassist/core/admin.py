"""Admin building blocks every app's admin uses, and the admin of the core models."""
import functools
import json

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
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


# ---------------------------------------------------------------- tenancy
# Staff users belong to companies (crm's CompanyMembership). In admin a superuser (SalesAssist platform
# staff) sees every row; any other staff user sees the rows of the active companies they are a member
# of, and the global rows (catalogue tables, global actions and workflows) read-only. Every choice a
# form offers (foreign keys, autocomplete) is limited the same way, and so are admin actions.


def admin_company_ids(request) -> frozenset[int] | None:
    """The ids of the companies whose rows the signed-in user may see in admin; None means all of them."""
    user = request.user
    if user.is_superuser:
        return None
    ids = getattr(request, "_admin_company_ids", None)
    if ids is None:
        ids = frozenset()
        if user.is_authenticated:
            # A deactivated company is closed to its staff, as the APIs are (IsCompanyMember).
            memberships = user.memberships.filter(company__is_active=True)
            ids = frozenset(memberships.values_list("company_id", flat=True))
        request._admin_company_ids = ids
    return ids


def _path_target(model, path: str):
    """The model a tenant path leads to, and whether it may lead nowhere (a global row)."""
    if path == "pk":
        return model, False
    nullable = False
    for name in path.split(LOOKUP_SEP):
        field = model._meta.get_field(name)
        nullable = nullable or field.null
        model = field.related_model
        if model is None:
            raise FieldDoesNotExist(f"{name} is not a relation")
    return model, nullable


def related_rows(admin_site, request, model, queryset, *, writable: bool = False):
    """`queryset` of `model` cut to the rows the user may choose: its admin's scope; for users, the
    members of the user's companies; nothing of a model no tenant-scoped admin knows."""
    ids = admin_company_ids(request)
    if ids is None:
        return queryset
    related_admin = admin_site._registry.get(model)
    if isinstance(related_admin, TenantScopedMixin):
        return related_admin.scope_queryset(request, queryset, writable=writable)
    if model is get_user_model():
        memberships = apps.get_model("crm", "CompanyMembership").objects.filter(company_id__in=ids)
        return queryset.filter(pk__in=memberships.values("user_id"))
    return queryset.none()


class TenantScopedMixin:
    """Limits an admin or inline to the rows of the user's companies, and every choice it offers.

    `tenant_paths` are lookups from the model to crm.Company ("pk" on Company itself). The first
    names the owner: company staff may write a row only when its owner is one of their companies,
    and the form's owner field offers only those. A row is listed when every path leads to one of
    their companies or, where the path may be empty, to none: global rows are listed, read-only.
    An empty `tenant_paths` is a catalogue table: every row global.
    """

    tenant_paths: tuple[str, ...] = ("company",)

    def get_tenant_paths(self) -> tuple[str, ...]:
        return self.tenant_paths

    def owner_field_name(self) -> str | None:
        paths = self.get_tenant_paths()
        return paths[0].split(LOOKUP_SEP)[0] if paths and paths[0] != "pk" else None

    def has_global_rows(self) -> bool:
        paths = self.get_tenant_paths()
        return not paths or _path_target(self.model, paths[0])[1]

    def scope_queryset(self, request, queryset, *, writable: bool = False):
        """`queryset` (of this admin's model) cut to the rows the user may see, or change if `writable`."""
        ids = admin_company_ids(request)
        if ids is None:
            return queryset
        paths = self.get_tenant_paths()
        if not ids or (writable and not paths):
            return queryset.none()
        condition = Q()
        for position, path in enumerate(paths):
            lookup = Q(**{f"{path}__in": ids})
            if not (writable and position == 0) and _path_target(self.model, path)[1]:
                lookup |= Q(**{f"{path}__isnull": True})
            condition &= lookup
        return queryset.filter(condition)

    def owner_company_id(self, obj) -> int | None:
        """The id of the company that owns `obj`; None for a global row."""
        paths = self.get_tenant_paths()
        if not paths:
            return None
        if paths[0] == "pk":
            return obj.pk
        *hops, last = paths[0].split(LOOKUP_SEP)
        for hop in hops:
            obj = getattr(obj, hop)
            if obj is None:
                return None
        return getattr(obj, obj._meta.get_field(last).attname)

    def may_write(self, request, obj=None) -> bool:
        """Whether the user may add (no `obj`) or change `obj` as far as tenancy goes."""
        ids = admin_company_ids(request)
        if ids is None:
            return True
        if not ids or not self.get_tenant_paths():
            return False
        return obj is None or self.owner_company_id(obj) in ids

    def get_queryset(self, request):
        writable = self._autocompletes_an_owner_field(request)
        return self.scope_queryset(request, super().get_queryset(request), writable=writable)

    def _autocompletes_an_owner_field(self, request) -> bool:
        """An autocomplete for another admin's owner field (a variant's product, say) offers only
        rows the user may write, as the form's choices do."""
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name != "autocomplete" or admin_company_ids(request) is None:
            return False
        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        except (KeyError, LookupError, ValueError):
            return False
        source_admin = self.admin_site._registry.get(source)
        return (
            isinstance(source_admin, TenantScopedMixin)
            and source_admin.owner_field_name() == request.GET.get("field_name")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._scope_choices(db_field, request, super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return self._scope_choices(db_field, request, super().formfield_for_manytomany(db_field, request, **kwargs))

    def _scope_choices(self, db_field, request, formfield):
        if formfield is None or admin_company_ids(request) is None:
            return formfield
        owner = db_field.name == self.owner_field_name()
        formfield.queryset = related_rows(
            self.admin_site, request, db_field.related_model, formfield.queryset, writable=owner
        )
        if owner:
            formfield.required = True  # company staff never make a global row
        return formfield

    def get_autocomplete_fields(self, request):
        fields = super().get_autocomplete_fields(request)
        if admin_company_ids(request) is None:
            return fields
        # Autocomplete asks the related model's admin, which company staff may not use (users, say):
        # they choose from a plain select of the rows they may then.
        return [name for name in fields if self._may_autocomplete(request, name)]

    def _may_autocomplete(self, request, field_name) -> bool:
        related_admin = self.admin_site._registry.get(self.model._meta.get_field(field_name).related_model)
        return related_admin is not None and related_admin.has_view_permission(request)


class TenantScopedAdminMixin(TenantScopedMixin):
    """A model admin limited to the user's companies: rows, choices, permissions and actions."""

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.may_write(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_write(request, obj)

    def get_action(self, action):
        found = super().get_action(action)
        if found is None:
            return None
        func, name, description = found

        @functools.wraps(func)
        def on_writable_rows(modeladmin, request, queryset):
            # Selected rows come from the scoped changelist; global ones among them are read-only.
            writable = modeladmin.scope_queryset(request, queryset, writable=True)
            if modeladmin.has_global_rows() and admin_company_ids(request) is not None:
                left_out = queryset.count() - writable.count()
                if left_out:
                    message = f"Left out {left_out} global row(s): only platform staff change them."
                    modeladmin.message_user(request, message, messages.WARNING)
            return func(modeladmin, request, writable)

        return on_writable_rows, name, description

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._tenancy_errors()]

    def _tenancy_errors(self) -> list:
        errors = []
        for path in self.get_tenant_paths():
            try:
                target = _path_target(self.model, path)[0]._meta.label
            except FieldDoesNotExist:
                target = None
            if target != "crm.Company":
                errors.append(checks.Error(
                    f"The tenant path {path!r} of {type(self).__name__} does not lead to crm.Company.",
                    obj=type(self), id="salesassist.E001",
                ))
        for inline in self.inlines:
            scoped = issubclass(inline, TenantScopedInlineMixin) and (
                inline.tenant_paths is not None
                or isinstance(self.admin_site._registry.get(inline.model), TenantScopedMixin)
            )
            if not scoped:
                errors.append(checks.Error(
                    f"The inline {inline.__name__} of {type(self).__name__} is not tenant-scoped "
                    "(derive it from ScopedTabularInline; its model's admin must be tenant-scoped).",
                    obj=type(self), id="salesassist.E002",
                ))
        return errors


class TenantScopedInlineMixin(TenantScopedMixin):
    """An inline limited to the user's companies; writable only on a parent the user may change.

    Its tenant paths are those of its model's registered admin unless it names its own.
    """

    tenant_paths = None

    def get_tenant_paths(self) -> tuple[str, ...]:
        if self.tenant_paths is not None:
            return self.tenant_paths
        return self.admin_site._registry[self.model].get_tenant_paths()

    def _may_write_on(self, request, parent) -> bool:
        ids = admin_company_ids(request)
        if ids is None:
            return True
        if not ids:
            return False
        if parent is None:
            return True
        parent_admin = self.admin_site._registry.get(type(parent))
        return isinstance(parent_admin, TenantScopedMixin) and parent_admin.may_write(request, parent)

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._may_write_on(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_write_on(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_write_on(request, obj)


class ScopedTabularInline(TenantScopedInlineMixin, admin.TabularInline):
    """The tabular inline every admin uses: limited to the user's companies."""


class SuperuserOnlyMixin:
    """Only superusers may use this admin: its rows belong to no company (users, groups, workers, the
    task queue), so company staff would see every company's there."""

    def has_module_permission(self, request):
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return request.user.is_superuser and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def superuser_only(model) -> None:
    """Re-register another app's admin of `model` (Django's users and groups, django-q2's queue) for
    superusers only. Those apps come before ours in INSTALLED_APPS, so their admins are registered."""
    if not admin.site.is_registered(model):
        return
    current = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    restricted = type(current.__name__, (SuperuserOnlyMixin, current), {"__module__": current.__module__})
    admin.site.register(model, restricted)


class BaseModelAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """uuid and timestamps are shown read-only on every page; constraints are checked as form errors.

    Rows, choices, permissions and actions are limited to the user's companies (`tenant_paths`).
    """

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
        queryset = self.scope_queryset(request, self.model.all_objects.get_queryset())
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


class ReadOnlyTabularInline(ViewOnlyMixin, ScopedTabularInline):
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
class WorkerHeartbeatAdmin(SuperuserOnlyMixin, ViewOnlyMixin, admin.ModelAdmin):
    """When each django-q2 worker last beat; written by the worker only. Superusers only: workers serve
    every company."""

    list_display = ("name", "beat_at")
    search_fields = ("name",)


for _model in (get_user_model(), Group):
    superuser_only(_model)
if apps.is_installed("django_q"):
    for _model in apps.get_app_config("django_q").get_models():
        superuser_only(_model)
