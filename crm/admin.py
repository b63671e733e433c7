"""Admin of the CRM: companies and their staff, API keys, leads, visitors, lead receivers."""
from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.http import StreamingHttpResponse
from django.utils.html import format_html

from salesassist.core.admin import (
    COMPANY_FILTER,
    NullSplitFilter,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    cleaned_fields,
    host_url_link,
    receiver_is_signed,
)
from salesassist.hosts import CRM_API

from .admin_tenancy import (
    BaseModelAdmin,
    HistoryModelAdmin,
    ReadOnlyTabularInline,
    ReceivedCallAdmin,
    RecentCallsInline,
    ScopedTabularInline,
    SoftDeleteModelAdmin,
    platform_admins_restrict,
)
from .models import ApiKey, Company, CompanyMembership, Lead, LeadErasure, LeadReceiver, LeadReceiverAttempt, Visitor
from .services import (
    COMPANY_FIELDS,
    LEAD_FIELDS,
    LEAD_RECEIVER_FIELDS,
    MEMBERSHIP_FIELDS,
    VISITOR_FIELDS,
    api_key_create,
    api_key_revoke,
    api_key_update,
    company_check,
    company_create,
    company_may_set_active,
    company_membership_add,
    company_membership_remove,
    company_membership_update,
    company_update,
    lead_create,
    lead_erase,
    lead_export_chunks,
    lead_normalize,
    lead_receiver_attempt_is_replayable,
    lead_receiver_attempt_replay,
    lead_receiver_create,
    lead_receiver_delete,
    lead_receiver_secret_set,
    lead_receiver_update,
    lead_receiver_validate,
    lead_soft_delete,
    lead_update,
    lead_validate,
    retention_in_effect,
    visitor_create,
    visitor_update,
    visitor_validate,
)


class MembershipFormSet(ServiceWritesFormSetMixin, BaseInlineFormSet):
    """A company's staff: memberships added, changed and removed through the services."""

    def create_row(self, form):
        return company_membership_add(company=self.instance, **cleaned_fields(form, MEMBERSHIP_FIELDS))

    def update_row(self, form, row):
        return company_membership_update(membership=row, **cleaned_fields(form, MEMBERSHIP_FIELDS))

    def delete_row(self, row):
        company_membership_remove(membership=row)


class CompanyMembershipInline(ScopedTabularInline):
    model = CompanyMembership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class CompanyAdminForm(ServiceRulesForm):
    """The company services' checks (the retention keys of its settings) as form errors."""

    def check_rules(self, cleaned_data):
        if "settings" in cleaned_data:
            company_check(settings=cleaned_data["settings"])


@admin.register(Company)
class CompanyAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A tenant, with the staff who belong to it."""

    form = CompanyAdminForm
    create_service = company_create
    service_fields = COMPANY_FIELDS
    list_display = ("name", "slug", "is_active", "created_at")
    list_filter = ("is_active", "created_at")
    search_fields = ("name", "slug", "=uuid")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (CompanyMembershipInline,)
    tenant_paths = ("pk",)

    @admin.display(description="retention in effect")
    def retention(self, obj):
        """Days each stored body is kept (its settings' *_retention_days, else the platform's default)."""
        kept = retention_in_effect(company=obj)
        return "; ".join(f"{key}: {'forever' if days is None else f'{days} days'}" for key, days in kept.items())

    # Tenants are made and removed by platform staff; company staff may at most edit their own.
    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), "retention")
        return fields if company_may_set_active(user=request.user) else (*fields, "is_active")

    def update_row(self, request, row, form):
        return company_update(company=row, user=request.user, **cleaned_fields(form, COMPANY_FIELDS))


@admin.register(CompanyMembership)
class CompanyMembershipAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A staff user's membership in a company."""

    create_service = company_membership_add
    update_service = company_membership_update
    delete_service = company_membership_remove
    instance_kwarg = "membership"
    service_fields = MEMBERSHIP_FIELDS
    fixed_fields = ("company",)
    list_display = ("user", "company", "role", "created_at")
    list_filter = ("role", COMPANY_FILTER)
    search_fields = ("user__username", "user__email", "company__name")
    autocomplete_fields = ("company", "user")
    list_select_related = ("company", "user")


class ApiKeyStatusFilter(NullSplitFilter):
    title = "status"
    parameter_name = "status"
    field = "revoked_at"
    when_null = ("active", "Active")
    when_set = ("revoked", "Revoked")


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A company's API keys. The hash is never shown; a new key is shown once, right after it is made."""

    list_display = ("name", "prefix", "company", "access", "last_used_at", "revoked_at", "created_at")
    list_filter = (ApiKeyStatusFilter, "access", COMPANY_FILTER, "created_at")
    search_fields = ("name", "prefix", "company__name")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    actions = ("revoke_keys",)
    add_fields = ("company", "name", "access")
    update_service = api_key_update
    instance_kwarg = "api_key"
    service_fields = ("name", "access")
    # Set on add, by the service or by use of the key, never typed in.
    fixed_fields = ("company", "prefix", "created_by", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.add_fields)
        return [*self.service_fields, *self.fixed_fields, "uuid", "created_at", "updated_at"]

    def create_row(self, request, form):
        api_key, token = api_key_create(
            company=form.cleaned_data["company"], created_by=request.user, **cleaned_fields(form, self.service_fields)
        )
        messages.success(
            request,
            format_html("The new API key is <code>{}</code> — copy it now: it is not stored and is shown only once.",
                        token),
        )
        return api_key

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


class LeadAdminForm(ServiceRulesForm):
    """The lead services' checks; the per-company email/phone uniqueness is checked on the dedupe keys."""

    model_filled_fields = ("deleted_at", "email_normalized", "phone_normalized")
    constraint_messages = {
        "crm_lead_unique_email_per_company": ("email", "This company already has a lead with this email."),
        "crm_lead_unique_phone_per_company": ("phone", "This company already has a lead with this phone number."),
    }

    def validate_unique(self):
        # The constraints are on the dedupe keys: fill them from the form's values as the services do.
        lead_normalize(lead=self.instance)
        super().validate_unique()

    def check_row(self, row):
        lead_validate(lead=row)


class LeadVisitorInline(ReadOnlyTabularInline):
    model = Visitor
    fields = ("uuid", "first_seen_at", "last_seen_at", "user_agent")
    readonly_fields = fields


@admin.register(Lead)
class LeadAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A person a company sells to."""

    form = LeadAdminForm
    create_service = lead_create
    update_service = lead_update
    delete_service = lead_soft_delete
    instance_kwarg = "lead"
    service_fields = LEAD_FIELDS
    fixed_fields = ("company",)
    list_display = ("__str__", "email", "phone", "company", "status", "owner", "source", "created_at")
    list_filter = ("status", COMPANY_FILTER, "source", "created_at")
    search_fields = ("first_name", "last_name", "email", "phone", "=uuid")
    autocomplete_fields = ("company", "owner")
    list_select_related = ("company", "owner")
    date_hierarchy = "created_at"
    # Set by the lead alone, through the unsubscribe link of an email.
    readonly_fields = ("unsubscribed_at",)
    inlines = (LeadVisitorInline,)
    actions = ("export_lead", "erase_leads")

    @admin.action(description="Export the selected lead (one JSON document with everything held about it)")
    def export_lead(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one lead to export.", messages.WARNING)
            return None
        lead = queryset.select_related("company", "owner").get()
        response = StreamingHttpResponse(
            (chunk.encode() for chunk in lead_export_chunks(lead=lead)), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="lead-{lead.uuid}.json"'
        return response

    @admin.action(description="Erase the selected leads' personal data everywhere", permissions=["change"])
    def erase_leads(self, request, queryset):
        erased = sum(lead_erase(lead=lead, erased_by_user=request.user)[1] for lead in queryset)
        self.message_user(request, f"Erased {erased} lead(s); an audit entry records each.", messages.SUCCESS)


@admin.register(LeadErasure)
class LeadErasureAdmin(HistoryModelAdmin):
    """The audit of leads' erasures: read only, never changed or removed."""

    list_display = ("lead_uuid", "company", "erased_at", "erased_by_user", "erased_by_api_key")
    list_filter = (COMPANY_FILTER, "erased_at")
    search_fields = ("=lead_uuid",)
    list_select_related = ("company", "erased_by_user", "erased_by_api_key")
    readonly_fields = ("lead_uuid", "company", "erased_at", "erased_by_user", "erased_by_api_key", "erased_counts")
    fields = readonly_fields


class VisitorAdminForm(ServiceRulesForm):
    """The visitor services' check (a lead of the visitor's company) as a form error."""

    def check_row(self, row):
        visitor_validate(visitor=row)


@admin.register(Visitor)
class VisitorAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A browser identity, linked to a lead once known."""

    form = VisitorAdminForm
    create_service = visitor_create
    update_service = visitor_update
    instance_kwarg = "visitor"
    service_fields = VISITOR_FIELDS
    fixed_fields = ("company",)
    list_display = ("uuid", "company", "lead", "first_seen_at", "last_seen_at")
    list_filter = (COMPANY_FILTER, "first_seen_at", "last_seen_at")
    search_fields = ("=uuid", "lead__email", "lead__first_name", "lead__last_name")
    autocomplete_fields = ("company", "lead")
    list_select_related = ("company", "lead")


class LeadReceiverAttemptInline(RecentCallsInline):
    model = LeadReceiverAttempt
    fields = ("created_at", "outcome", "rejection", "lead", "source_ip")
    readonly_fields = fields


class LeadReceiverAdminForm(ServiceRulesForm):
    """The lead receiver services' checks (the template, the default owner) as form errors."""

    generate_secret = forms.BooleanField(
        required=False,
        label="New signing secret",
        help_text="Generates a new whsec_ secret, shown once; from then on calls must be signed with it.",
    )

    def check_row(self, row):
        lead_receiver_validate(receiver=row)


@admin.register(LeadReceiver)
class LeadReceiverAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """An inbound URL where a third party posts leads; its mapping says where each field is."""

    form = LeadReceiverAdminForm
    create_service = lead_receiver_create
    update_service = lead_receiver_update
    # One that received calls keeps them: Django's delete page already refuses it (the calls are view-only),
    # and the service refuses it too.
    delete_service = lead_receiver_delete
    instance_kwarg = "receiver"
    service_fields = LEAD_RECEIVER_FIELDS
    fixed_fields = ("company",)
    list_display = ("name", "company", "source", "is_active", receiver_is_signed, "created_at")
    list_filter = ("is_active", COMPANY_FILTER, "created_at")
    search_fields = ("name", "source", "=uuid", "company__name")
    autocomplete_fields = ("company", "default_owner")
    list_select_related = ("company",)
    # The secret is never shown; `receiver_is_signed` tells whether calls must be signed.
    exclude = ("secret",)
    readonly_fields = ("url", receiver_is_signed)
    inlines = (LeadReceiverAttemptInline,)
    actions = ("unsign_receivers",)

    def create_row(self, request, form):
        return self._secret_generated(request, form, super().create_row(request, form))

    def update_row(self, request, row, form):
        return self._secret_generated(request, form, super().update_row(request, row, form))

    def _secret_generated(self, request, form, receiver):
        if form.cleaned_data.get("generate_secret"):
            receiver = lead_receiver_secret_set(receiver=receiver, generate=True)
            messages.success(
                request,
                format_html("The receiver's signing secret is <code>{}</code> — shown only once.", receiver.secret),
            )
        return receiver

    @admin.action(description="Stop requiring signed calls (remove the signing secret)", permissions=["change"])
    def unsign_receivers(self, request, queryset):
        for receiver in queryset:
            lead_receiver_secret_set(receiver=receiver, secret="")
        self.message_user(request, f"{queryset.count()} lead receiver(s) no longer require signed calls.")

    @admin.display(description="URL")
    def url(self, obj):
        """Where the third party posts leads."""
        if obj.pk is None:
            return "—"
        return host_url_link("crm:lead-receiver-call-create", CRM_API, receiver_uuid=obj.uuid)


@admin.register(LeadReceiverAttempt)
class LeadReceiverAttemptAdmin(ReceivedCallAdmin):
    """Raw calls to lead receivers, as received."""

    list_display = ("created_at", "receiver", "company", "outcome", "rejection", "lead", "source_ip")
    call_fields = ("receiver", "company", "body", "source_ip", "outcome", "lead", "processed_at")
    search_fields = ("=uuid", "receiver__name", "body")
    list_select_related = ("receiver", "company", "lead")
    # Replaying writes leads through the receiver's template: those who may change lead receivers.
    replay_permission = "crm.change_leadreceiver"

    def is_replayable(self, stored) -> bool:
        return lead_receiver_attempt_is_replayable(attempt=stored)

    def replay(self, stored):
        return lead_receiver_attempt_replay(attempt=stored).attempt


platform_admins_restrict()
