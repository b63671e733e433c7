"""Admin of company action receivers and the raw calls they stored."""
from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html

from action_engine.models import ActionCompanyReceiver, ReceiverCall
from action_engine.services import (
    RECEIVER_FIELDS,
    action_company_receiver_rotate,
    action_company_receiver_secret_generate,
    action_company_receiver_update,
    receiver_call_is_replayable,
    receiver_call_replay,
    receiver_default_stage_check,
    receiver_mapping_check,
)
from crm.admin_tenancy import BaseModelAdmin, ReceivedCallAdmin, RecentCallsInline, ScopedTabularInline
from salesassist.core.admin import (
    COMPANY_FILTER,
    TIMESTAMP_FIELDS,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    cleaned_fields,
    host_url_link,
    receiver_is_signed,
)
from salesassist.hosts import ACTION_ENGINE_API


@admin.display(description="URL")
def receiver_url(receiver: ActionCompanyReceiver) -> str:
    """Where the third party posts results."""
    if receiver.pk is None:
        return "—"
    return host_url_link("action_engine:receiver-call-create", ACTION_ENGINE_API, receiver_uuid=receiver.uuid)


class ReceiverForm(ServiceRulesForm):
    """A receiver's mapping names the visitor's path; its default stage is a stage of its action's system."""

    def check_rules(self, cleaned_data):
        if "mapping" in cleaned_data:
            receiver_mapping_check(mapping=cleaned_data["mapping"])
        action_company = cleaned_data.get("action_company")
        if action_company is None and self.instance.action_company_id:
            action_company = self.instance.action_company
        if action_company is not None and "default_stage" in cleaned_data:
            receiver_default_stage_check(action_company=action_company, default_stage=cleaned_data["default_stage"])


class ReceiverAddForm(ReceiverForm):
    """A new receiver for a company action; it replaces the active one."""

    generate_secret = forms.BooleanField(
        required=False, label="Require signed calls", help_text="Generates a new whsec_ secret, shown once."
    )

    class Meta:
        model = ActionCompanyReceiver
        fields = ("action_company", "mapping", "default_stage")


class ReceiverFormSet(ServiceWritesFormSetMixin, BaseInlineFormSet):
    """A company action's receivers, changed in place through the service."""

    def update_row(self, form, row):
        return action_company_receiver_update(receiver=row, **cleaned_fields(form, RECEIVER_FIELDS))


class ReceiverInline(ScopedTabularInline):
    """The company action's receivers: the active one and those rotated out. Rotate with the list action."""

    model = ActionCompanyReceiver
    form = ReceiverForm
    formset = ReceiverFormSet
    fk_name = "action_company"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("uuid", receiver_url, "is_active", "default_stage", "mapping", receiver_is_signed, "created_at")
    readonly_fields = ("uuid", receiver_url, "is_active", receiver_is_signed, "created_at")

    def has_add_permission(self, request, obj=None):
        return False  # a receiver comes with its company action; a new one only by rotating


class ReceiverCallInline(RecentCallsInline):
    model = ReceiverCall
    fields = ("created_at", "outcome", "rejection", "engagement", "source_ip")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("engagement__lead", "engagement__action_company")


@admin.register(ActionCompanyReceiver)
class ActionCompanyReceiverAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """Inbound URLs of company actions. Adding one rotates: the previous receiver stops accepting calls."""

    form = ReceiverForm
    add_form = ReceiverAddForm
    update_service = action_company_receiver_update
    instance_kwarg = "receiver"
    service_fields = RECEIVER_FIELDS
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

    # Adding one rotates, with a new secret when asked for (shown once).
    def create_row(self, request, form):
        secret = action_company_receiver_secret_generate() if form.cleaned_data["generate_secret"] else ""
        receiver = action_company_receiver_rotate(
            action_company=form.cleaned_data["action_company"], secret=secret, **cleaned_fields(form, RECEIVER_FIELDS)
        )
        if secret:
            messages.success(
                request, format_html("The receiver's signing secret is <code>{}</code> — shown only once.", secret)
            )
        return receiver


@admin.register(ReceiverCall)
class ReceiverCallAdmin(ReceivedCallAdmin):
    """Raw calls to company action receivers, as received."""

    list_display = ("created_at", "receiver", "company", "outcome", "rejection", "engagement", "source_ip")
    call_fields = ("company", "receiver", "body", "source_ip", "outcome", "engagement", "processed_at")
    search_fields = ("=uuid", "=receiver__uuid", "body")
    list_select_related = ("receiver", "company", "engagement__lead", "engagement__action_company")
    # Replaying writes engagements for the receiver's company action: those who may change receivers.
    replay_permission = "action_engine.change_actioncompanyreceiver"

    def is_replayable(self, stored) -> bool:
        return receiver_call_is_replayable(receiver_call=stored)

    def replay(self, stored):
        return receiver_call_replay(receiver_call=stored).call
