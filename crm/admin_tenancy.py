"""Admin tenancy: staff users belong to companies (memberships), and admin shows each only theirs.

A superuser (SalesAssist platform staff) sees every row; any other staff user sees the rows of the
active companies they are a member of, and the global rows (catalogue tables, global actions and
workflows) read-only. Every choice a form offers (foreign keys, autocomplete) is limited the same way,
and so are admin actions. The admin bases at the end are what every domain app's admin derives from.
"""
import functools

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP

from salesassist.core.admin import (
    ReadOnlyInlineMixin,
    ReceivedCallAdminMixin,
    RecentCallsInlineMixin,
    SoftDeleteAdminMixin,
    TimestampedModelAdmin,
    ViewOnlyMixin,
    superuser_only,
)

from .models import Company, CompanyMembership


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
        memberships = CompanyMembership.objects.filter(company_id__in=ids)
        return queryset.filter(pk__in=memberships.values("user_id"))
    return queryset.none()


class TenantScopedMixin:
    """Limits an admin or inline to the rows of the user's companies, and every choice it offers.

    `tenant_paths` are lookups from the model to Company ("pk" on Company itself). The first
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
                target = _path_target(self.model, path)[0]
            except FieldDoesNotExist:
                target = None
            if target is not Company:
                errors.append(checks.Error(
                    f"The tenant path {path!r} of {type(self).__name__} does not lead to crm.Company.",
                    obj=type(self), id="crm.E001",
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
                    obj=type(self), id="crm.E002",
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


def platform_admins_restrict() -> None:
    """Users, groups, django-q2's queue and django-axes' login attempts belong to no company: their admins
    are for superusers only (a superuser lifts a login lockout by deleting its access attempt).

    Called by crm's admin module: Django's, django-q2's and django-axes' admins are registered by then
    (those apps come before crm in INSTALLED_APPS).
    """
    platform_models = [*apps.get_app_config("django_q").get_models(), *apps.get_app_config("axes").get_models()]
    for model in (get_user_model(), Group, *platform_models):
        superuser_only(model)


# ---------------------------------------------------------------- the admin bases of every domain app


class BaseModelAdmin(TenantScopedAdminMixin, TimestampedModelAdmin):
    """uuid and timestamps are shown read-only on every page; constraints are checked as form errors.

    Rows, choices, permissions and actions are limited to the user's companies (`tenant_paths`).
    """


class SoftDeleteModelAdmin(TenantScopedAdminMixin, SoftDeleteAdminMixin, TimestampedModelAdmin):
    """A tenant-scoped admin of soft-deleted rows: the deleted ones are listed on demand and restorable."""


class HistoryModelAdmin(ViewOnlyMixin, BaseModelAdmin):
    """Append-only history: view only."""


class ReadOnlyTabularInline(ReadOnlyInlineMixin, ScopedTabularInline):
    """A history inline: rows are shown, linked to their own page, never edited here."""


class ReceivedCallAdmin(ReceivedCallAdminMixin, HistoryModelAdmin):
    """Raw calls to an inbound URL of the user's companies, replayable by those who may."""


class RecentCallsInline(RecentCallsInlineMixin, ReadOnlyTabularInline):
    """The newest raw calls a receiver of the user's companies stored."""
