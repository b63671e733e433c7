"""Admin of the catalogue: action types, systems and data types (superusers change them), and actions."""
from django.contrib import admin

from action_engine.models import Action, ActionDataType, ActionSystem, ActionType
from action_engine.services import (
    ACTION_FIELDS,
    action_create,
    action_delete_check,
    action_soft_delete,
    action_system_check,
    action_update,
)
from action_engine.systems import system_spec
from crm.admin_tenancy import BaseModelAdmin, SoftDeleteModelAdmin
from salesassist.core.admin import (
    COMPANY_FILTER,
    ScopeFilter,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    cleaned_fields,
)


@admin.register(ActionType)
class ActionTypeAdmin(BaseModelAdmin):
    """What kind of action (product, document, form, commerce…)."""

    tenant_paths = ()  # the catalogue: every company sees it, only superusers change it

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ActionSystem)
class ActionSystemAdmin(BaseModelAdmin):
    """A subsystem that powers action pages; its stage pipeline is fixed in code."""

    tenant_paths = ()

    list_display = ("name", "slug", "pipeline_display", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("pipeline_display",)

    @admin.display(description="pipeline")
    def pipeline_display(self, obj):
        return " → ".join(system_spec(obj.slug).pipeline) if obj.pk else "—"


@admin.register(ActionDataType)
class ActionDataTypeAdmin(BaseModelAdmin):
    """The data an action works on (product, content)."""

    tenant_paths = ()

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class ActionAdminForm(ServiceRulesForm):
    """An action's system rules (services.action_system_check); slug clashes read as sentences."""

    constraint_messages = {
        "action_engine_action_unique_global_slug": ("slug", "A global action already has this slug."),
        "action_engine_action_unique_company_slug": ("slug", "This company already has an action with this slug."),
    }

    def check_rules(self, cleaned_data):
        if "system" in cleaned_data:
            action_system_check(action=self.instance, system=cleaned_data["system"])


@admin.register(Action)
class ActionAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A catalogue action: global when it has no company."""

    form = ActionAdminForm
    create_service = action_create
    delete_check_service = action_delete_check
    instance_kwarg = "action"
    service_fields = ACTION_FIELDS
    fixed_fields = ("company",)
    list_display = ("name", "slug", "company", "type", "system", "data_type", "is_published", "created_at")
    list_filter = (ScopeFilter, "type", "system", "data_type", "is_published", COMPANY_FILTER, "created_at")
    search_fields = ("name", "slug", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company", "type", "system", "data_type")
    prepopulated_fields = {"slug": ("name",)}

    # No caller's company: in admin, tenancy has decided who changes which action (global ones: superusers).
    def update_row(self, request, row, form):
        return action_update(action=row, company=None, **cleaned_fields(form, self.service_fields))

    def delete_row(self, request, row):
        action_soft_delete(action=row, company=None)
