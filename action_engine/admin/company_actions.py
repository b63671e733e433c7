"""Admin of company actions and the modules their pages show."""
from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from action_engine.models import ActionCompany, ActionCompanySystemModule
from action_engine.selectors import action_company_funnel
from action_engine.services import (
    ACTION_COMPANY_FIELDS,
    MODULE_FIELDS,
    action_company_action_check,
    action_company_create,
    action_company_module_attach,
    action_company_module_check,
    action_company_module_detach,
    action_company_module_update,
    action_company_receiver_rotate,
    action_company_soft_delete,
    action_company_update,
)
from crm.admin_tenancy import BaseModelAdmin, ScopedTabularInline, SoftDeleteModelAdmin
from salesassist.core.admin import (
    COMPANY_FILTER,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    cleaned_fields,
    domain_error_fields,
)
from salesassist.core.exceptions import InvalidInput

from .receivers import ReceiverInline
from .rows import LinkRowForm, LinkRowsFormSet


def module_errors(action_company, cleaned_data: dict) -> dict:
    """The module rule (services.action_company_module_check) for an admin row: errors by form field."""
    kind = cleaned_data.get("kind")
    if not kind or action_company is None or not action_company.action_id:
        return {}
    try:
        action_company_module_check(action_company=action_company, kind=kind, target=cleaned_data.get(kind))
    except InvalidInput as error:
        return domain_error_fields(error, renamed={"target": kind})
    return {}


def module_key(cleaned_data: dict):
    kind = cleaned_data.get("kind")
    target = cleaned_data.get(kind) if kind else None
    return (kind, target.pk) if target is not None else None


def module_attach(*, action_company, cleaned_data: dict) -> ActionCompanySystemModule:
    """Attach the module an admin form describes, through the service."""
    kind = cleaned_data["kind"]
    return action_company_module_attach(
        action_company=action_company,
        kind=kind,
        target_uuid=cleaned_data[kind].uuid,
        position=cleaned_data.get("position"),
    )


class ModuleFormSet(ServiceWritesFormSetMixin, LinkRowsFormSet):
    """A company action's modules: new rows attached, changed ones updated and removed ones detached through
    the services."""

    row_errors = staticmethod(module_errors)
    row_key = staticmethod(module_key)

    def create_row(self, form):
        return module_attach(action_company=self.instance, cleaned_data=form.cleaned_data)

    def update_row(self, form, row):
        return action_company_module_update(module=row, **cleaned_fields(form, MODULE_FIELDS))

    def delete_row(self, row):
        action_company_module_detach(module=row)


class ModuleForm(LinkRowForm):
    parent_field = "action_company"
    row_errors = staticmethod(module_errors)


class ModuleInline(ScopedTabularInline):
    """What the action page shows, in order: set the kind and the one matching reference."""

    model = ActionCompanySystemModule
    formset = ModuleFormSet
    extra = 0
    autocomplete_fields = ("product", "content", "form")
    fields = ("position", "kind", "product", "content", "form")


class ActionCompanyAdminForm(ServiceRulesForm):
    """A company action is of a global action or of one of its company's own."""

    def check_rules(self, cleaned_data):
        company, action = cleaned_data.get("company"), cleaned_data.get("action")
        if company and action:
            action_company_action_check(company=company, action=action)


@admin.register(ActionCompany)
class ActionCompanyAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A company's instance of a catalogue action. Adding one makes its receiver."""

    form = ActionCompanyAdminForm
    create_service = action_company_create
    update_service = action_company_update
    delete_service = action_company_soft_delete
    instance_kwarg = "action_company"
    service_fields = ACTION_COMPANY_FIELDS
    fixed_fields = ("company", "action")
    list_display = ("name", "company", "action", "system", "is_active", "is_published", "created_at")
    list_filter = (
        "is_active",
        "is_published",
        ("action__system", admin.RelatedOnlyFieldListFilter),
        ("action__type", admin.RelatedOnlyFieldListFilter),
        COMPANY_FILTER,
        "created_at",
    )
    search_fields = ("name", "=uuid", "company__name", "action__name")
    autocomplete_fields = ("company", "action")
    list_select_related = ("company", "action__system")
    inlines = (ReceiverInline, ModuleInline)
    actions = ("rotate_receivers",)

    @admin.display(description="system", ordering="action__system__name")
    def system(self, obj):
        return obj.action.system

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is None else [*fields, "funnel"]

    @admin.display(description="funnel (all time / last 30 days)")
    def funnel(self, obj):
        """Leads reaching each stage and the conversion from the previous one (the API's funnel)."""
        all_time = action_company_funnel(action_company=obj)["stages"]
        recent = action_company_funnel(action_company=obj, since=timezone.now() - timedelta(days=30))["stages"]

        def cell(stage):
            conversion = "" if stage["conversion"] is None else f" ({stage['conversion']:.0%})"
            return f"{stage['leads']}{conversion}"

        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((stage["stage"], cell(stage), cell(last)) for stage, last in zip(all_time, recent)),
        )
        return format_html(
            '<table class="funnel"><thead><tr><th>stage</th><th>leads (conversion)</th><th>last 30 days</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    def get_inlines(self, request, obj):
        if obj is None:  # the receiver is made with the company action, not typed in
            return [inline for inline in self.inlines if inline is not ReceiverInline]
        return self.inlines

    @admin.action(description="Rotate receiver (new receiver uuid, same mapping and secret)", permissions=["change"])
    def rotate_receivers(self, request, queryset):
        for action_company in queryset.select_related("action__system"):
            current = action_company.receivers.filter(is_active=True).first()
            # Mapping and default stage carry over in the service; keep signed receivers signed.
            action_company_receiver_rotate(action_company=action_company, secret=current.secret if current else "")
        self.message_user(request, f"Rotated the receiver of {queryset.count()} company action(s).", messages.SUCCESS)


@admin.register(ActionCompanySystemModule)
class ActionCompanySystemModuleAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """One product, content or form a company action's page shows."""

    form = ModuleForm
    update_service = action_company_module_update
    delete_service = action_company_module_detach
    instance_kwarg = "module"
    service_fields = MODULE_FIELDS
    tenant_paths = ("action_company__company",)
    list_display = ("action_company", "position", "kind", "target", "created_at")
    list_filter = ("kind", ("action_company__company", admin.RelatedOnlyFieldListFilter))
    search_fields = ("action_company__name", "product__name", "content__title", "form__name")
    autocomplete_fields = ("action_company", "product", "content", "form")
    list_select_related = ("action_company", "product", "content", "form")

    def create_row(self, request, form):
        return module_attach(action_company=form.cleaned_data["action_company"], cleaned_data=form.cleaned_data)
