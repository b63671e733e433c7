"""Admin of the action engine: the catalogue, company actions with their receivers and modules, forms,
and the engagement history. The workflows app adds its inlines (workflows, deliveries) to these admins."""
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from crm.admin_tenancy import (
    BaseModelAdmin,
    HistoryModelAdmin,
    ReceivedCallAdmin,
    RecentCallsInline,
    ScopedTabularInline,
    SoftDeleteModelAdmin,
)
from salesassist.core.admin import (
    COMPANY_FILTER,
    TIMESTAMP_FIELDS,
    ConstraintCheckingForm,
    ScopeFilter,
    adopt_saved_row,
    host_url_link,
    pretty_json,
)
from salesassist.hosts import ACTION_ENGINE_API

from .models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Engagement,
    Form,
    Message,
    ReceiverCall,
)
from .selectors import action_company_funnel
from .services import (
    action_company_create,
    action_company_receiver_rotate,
    action_company_receiver_secret_generate,
    form_schema_errors,
    receiver_call_is_replayable,
    receiver_call_replay,
)
from .systems import system_spec

# ---------------------------------------------------------------- link checks
# Rows that link a parent (an action, a company action) to a workflow, product, content or form are
# checked against the parent the same way in an inline and on their own admin page (LinkRowsFormSet,
# LinkRowForm; the workflows app uses them for its links too).


def module_errors(action_company, cleaned_data: dict) -> dict[str, str]:
    """Why the row cannot be shown on `action_company`'s page: a kind its system does not show, or
    another company's product, content or form."""
    kind = cleaned_data.get("kind")
    if not kind or action_company is None or not action_company.action_id:
        return {}
    spec = system_spec(action_company.action.system.slug)
    if kind not in spec.module_kinds:
        return {"kind": f"This action's system shows only: {', '.join(sorted(spec.module_kinds))}."}
    target = cleaned_data.get(kind)
    if target is not None and action_company.company_id and target.company_id != action_company.company_id:
        return {kind: "This belongs to another company."}
    return {}


def module_key(cleaned_data: dict):
    kind = cleaned_data.get("kind")
    target = cleaned_data.get(kind) if kind else None
    return (kind, target.pk) if target is not None else None


class LinkRowsFormSet(BaseInlineFormSet):
    """Checks each kept row against the parent (`self.instance`) and refuses the same target twice."""

    row_errors = staticmethod(lambda parent, cleaned_data: {})
    row_key = staticmethod(lambda cleaned_data: None)

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            cleaned_data = getattr(form, "cleaned_data", None)
            if not cleaned_data or cleaned_data.get("DELETE"):
                continue
            for field, message in self.row_errors(self.instance, cleaned_data).items():
                form.add_error(field, message)
            key = self.row_key(cleaned_data)
            if key is not None and key in seen:
                form.add_error(None, "This is already on the list.")
            seen.add(key)


class ModuleFormSet(LinkRowsFormSet):
    row_errors = staticmethod(module_errors)
    row_key = staticmethod(module_key)


class LinkRowForm(ConstraintCheckingForm):
    """A link row on its own admin page: the same checks as in its parent's inline."""

    parent_field = ""
    row_errors = staticmethod(lambda parent, cleaned_data: {})

    def clean(self):
        cleaned_data = super().clean()
        for field, message in self.row_errors(cleaned_data.get(self.parent_field), cleaned_data).items():
            self.add_error(field, message)
        return cleaned_data


class ModuleForm(LinkRowForm):
    parent_field = "action_company"
    row_errors = staticmethod(module_errors)


# ---------------------------------------------------------------- catalogue


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


class ActionAdminForm(ConstraintCheckingForm):
    constraint_messages = {
        "action_engine_action_unique_global_slug": ("slug", "A global action already has this slug."),
        "action_engine_action_unique_company_slug": ("slug", "This company already has an action with this slug."),
    }


@admin.register(Action)
class ActionAdmin(SoftDeleteModelAdmin):
    """A catalogue action: global when it has no company."""

    form = ActionAdminForm
    list_display = ("name", "slug", "company", "type", "system", "data_type", "is_published", "created_at")
    list_filter = (ScopeFilter, "type", "system", "data_type", "is_published", COMPANY_FILTER, "created_at")
    search_fields = ("name", "slug", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company", "type", "system", "data_type")
    prepopulated_fields = {"slug": ("name",)}


# ---------------------------------------------------------------- company actions


@admin.display(description="URL")
def receiver_url(receiver: ActionCompanyReceiver) -> str:
    """Where the third party posts results."""
    if receiver.pk is None:
        return "—"
    return host_url_link("action_engine:receiver-call-create", ACTION_ENGINE_API, receiver_uuid=receiver.uuid)


@admin.display(boolean=True, description="signed")
def receiver_is_signed(receiver: ActionCompanyReceiver) -> bool:
    """Whether calls must carry a valid signature; the secret itself is never shown."""
    return bool(receiver.secret)


class ReceiverForm(ConstraintCheckingForm):
    """A receiver's default stage must be a stage of its action's system."""

    def clean(self):
        cleaned_data = super().clean()
        action_company = cleaned_data.get("action_company")
        if action_company is None and self.instance.action_company_id:
            action_company = self.instance.action_company
        stage = cleaned_data.get("default_stage")
        if action_company and stage:
            pipeline = system_spec(action_company.action.system.slug).pipeline
            if stage not in pipeline:
                self.add_error("default_stage", f"Not a stage of this action's system ({', '.join(pipeline)}).")
        return cleaned_data


class ReceiverAddForm(ReceiverForm):
    """A new receiver for a company action; it replaces the active one."""

    generate_secret = forms.BooleanField(
        required=False, label="Require signed calls", help_text="Generates a new whsec_ secret, shown once."
    )

    class Meta:
        model = ActionCompanyReceiver
        fields = ("action_company", "mapping", "default_stage")


class ReceiverInline(ScopedTabularInline):
    """The company action's receivers: the active one and those rotated out. Rotate with the list action."""

    model = ActionCompanyReceiver
    form = ReceiverForm
    fk_name = "action_company"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("uuid", receiver_url, "is_active", "default_stage", "mapping", receiver_is_signed, "created_at")
    readonly_fields = ("uuid", receiver_url, "is_active", receiver_is_signed, "created_at")

    def has_add_permission(self, request, obj=None):
        return False  # a receiver comes with its company action; a new one only by rotating


class ModuleInline(ScopedTabularInline):
    """What the action page shows, in order: set the kind and the one matching reference."""

    model = ActionCompanySystemModule
    formset = ModuleFormSet
    extra = 0
    autocomplete_fields = ("product", "content", "form")
    fields = ("position", "kind", "product", "content", "form")


class ActionCompanyAdminForm(ConstraintCheckingForm):
    def clean(self):
        cleaned_data = super().clean()
        company, action = cleaned_data.get("company"), cleaned_data.get("action")
        if company and action and action.company_id not in (None, company.pk):
            self.add_error("action", "This action belongs to another company's catalogue.")
        return cleaned_data


@admin.register(ActionCompany)
class ActionCompanyAdmin(SoftDeleteModelAdmin):
    """A company's instance of a catalogue action. Adding one makes its receiver."""

    form = ActionCompanyAdminForm
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

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        fields = {name: value for name, value in form.cleaned_data.items() if name not in ("company", "action")}
        adopt_saved_row(obj, action_company_create(company=obj.company, action=obj.action, **fields))

    @admin.action(description="Rotate receiver (new receiver uuid, same mapping and secret)", permissions=["change"])
    def rotate_receivers(self, request, queryset):
        for action_company in queryset.select_related("action__system"):
            current = action_company.receivers.filter(is_active=True).first()
            # Mapping and default stage carry over in the service; keep signed receivers signed.
            action_company_receiver_rotate(action_company=action_company, secret=current.secret if current else "")
        self.message_user(request, f"Rotated the receiver of {queryset.count()} company action(s).", messages.SUCCESS)


class ReceiverCallInline(RecentCallsInline):
    model = ReceiverCall
    fields = ("created_at", "outcome", "engagement", "source_ip")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("engagement__lead", "engagement__action_company")


@admin.register(ActionCompanyReceiver)
class ActionCompanyReceiverAdmin(BaseModelAdmin):
    """Inbound URLs of company actions. Adding one rotates: the previous receiver stops accepting calls."""

    form = ReceiverForm
    add_form = ReceiverAddForm
    list_display = ("uuid", "action_company", "company", "is_active", "default_stage", receiver_is_signed, "created_at")
    list_filter = ("is_active", "default_stage", COMPANY_FILTER, "created_at")
    search_fields = ("=uuid", "action_company__name", "company__name")
    autocomplete_fields = ("action_company",)
    list_select_related = ("action_company", "company")
    inlines = (ReceiverCallInline,)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["action_company", "mapping", "default_stage", "generate_secret"]
        # The secret is never shown; `receiver_is_signed` tells whether calls must be signed.
        return [
            "action_company",
            "company",
            receiver_url,
            "is_active",
            receiver_is_signed,
            "default_stage",
            "mapping",
            *TIMESTAMP_FIELDS,
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        readonly = ["action_company", "company", receiver_url, "is_active", receiver_is_signed]
        return fields if obj is None else [*fields, *readonly]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        secret = action_company_receiver_secret_generate() if form.cleaned_data["generate_secret"] else ""
        receiver = action_company_receiver_rotate(
            action_company=obj.action_company,
            mapping=obj.mapping,
            default_stage=obj.default_stage,
            secret=secret,
        )
        adopt_saved_row(obj, receiver)
        if secret:
            messages.success(
                request, format_html("The receiver's signing secret is <code>{}</code> — shown only once.", secret)
            )


@admin.register(ReceiverCall)
class ReceiverCallAdmin(ReceivedCallAdmin):
    """Raw calls to company action receivers, as received."""

    list_display = ("created_at", "receiver", "company", "outcome", "engagement", "source_ip")
    search_fields = ("=uuid", "=receiver__uuid", "body")
    list_select_related = ("receiver", "company", "engagement__lead", "engagement__action_company")
    # Replaying writes engagements for the receiver's company action: those who may change receivers.
    replay_permission = "action_engine.change_actioncompanyreceiver"
    not_replayable_because = "processed already, or refused for their signature"

    def is_replayable(self, stored) -> bool:
        return receiver_call_is_replayable(receiver_call=stored)

    def replay(self, stored):
        return receiver_call_replay(receiver_call=stored).call


@admin.register(ActionCompanySystemModule)
class ActionCompanySystemModuleAdmin(BaseModelAdmin):
    """One product, content or form a company action's page shows."""

    form = ModuleForm
    tenant_paths = ("action_company__company",)
    list_display = ("action_company", "position", "kind", "target", "created_at")
    list_filter = ("kind", ("action_company__company", admin.RelatedOnlyFieldListFilter))
    search_fields = ("action_company__name", "product__name", "content__title", "form__name")
    autocomplete_fields = ("action_company", "product", "content", "form")
    list_select_related = ("action_company", "product", "content", "form")


class FormAdminForm(ConstraintCheckingForm):
    """The schema must be a usable form: a JSON Schema (draft 2020-12) of type object."""

    def clean_schema(self):
        schema = self.cleaned_data["schema"]
        errors = form_schema_errors(schema)
        if errors:
            raise forms.ValidationError(errors)
        return schema


@admin.register(Form)
class FormAdmin(SoftDeleteModelAdmin):
    """A JSON-Schema form: the module of the forms system."""

    form = FormAdminForm
    list_display = ("name", "company", "submit_label", "created_at")
    list_filter = (COMPANY_FILTER, "created_at")
    search_fields = ("name", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)


# ---------------------------------------------------------------- engagement history


@admin.register(Engagement)
class EngagementAdmin(HistoryModelAdmin):
    """The stages leads reached on company actions, with each result's message."""

    list_display = ("created_at", "lead", "action_company", "stage", "previous_stage", "company")
    list_filter = (
        "stage",
        ("action_company__action__system", admin.RelatedOnlyFieldListFilter),
        COMPANY_FILTER,
        "created_at",
    )
    search_fields = ("=uuid", "=lead__uuid", "lead__email", "action_company__name")
    list_select_related = ("lead", "action_company", "company")
    date_hierarchy = "created_at"
    readonly_fields = ("message_body",)

    @admin.display(description="message")
    def message_body(self, obj):
        return pretty_json(obj.message.body) if obj.message_id else "—"


@admin.register(Message)
class MessageAdmin(HistoryModelAdmin):
    """The JSON results engagements carry."""

    list_display = ("uuid", "company", "created_at")
    list_filter = (COMPANY_FILTER, "created_at")
    search_fields = ("=uuid",)
    list_select_related = ("company",)
    exclude = ("body",)
    readonly_fields = ("engagement", "pretty_body")

    @admin.display(description="body")
    def pretty_body(self, obj):
        return pretty_json(obj.body)
