"""Admin of workflows, their deliveries and every delivery attempt."""
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from crm.admin_tenancy import HistoryModelAdmin, ReadOnlyTabularInline, SoftDeleteModelAdmin
from salesassist.core.admin import COMPANY_FILTER, RecentRowsFormSet, ScopeFilter, pretty_json
from salesassist.core.exceptions import InvalidInput

from .choices import WorkflowKind
from .conditions import conditions_validate
from .kinds import kind_handler
from .models import Delivery, DeliveryAttempt, Workflow
from .services import deliveries_enqueue, stages_validate, workflow_recover, workflow_resume
from .signing import secret_generate

# How far back "recover" reaches in admin (further when the workflow has been failing longer).
ADMIN_RECOVER_DEFAULT = timedelta(days=7)


class WorkflowAdminForm(forms.ModelForm):
    """The same checks as the API: the kind's config (SSRF of a webhook URL included), the conditions and
    the stages."""

    class Meta:
        model = Workflow
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        checks = (
            ("config", lambda: kind_handler(cleaned["kind"]).config_validate(cleaned.get("config"))),
            ("conditions", lambda: conditions_validate(cleaned.get("conditions"))),
            ("stages", lambda: stages_validate(cleaned.get("stages"))),
        )
        for field, check in checks:
            if field not in cleaned or "kind" not in cleaned:
                continue
            try:
                cleaned[field] = check()
            except InvalidInput as error:
                self.add_error(field, "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in error.errors.items()))
        return cleaned


class RecentDeliveryInline(ReadOnlyTabularInline):
    """The workflow's most recent deliveries; the link under the form lists them all."""

    model = Delivery
    formset = RecentRowsFormSet
    fields = ("created_at", "engagement", "status", "attempts", "last_status_code", "next_attempt_at")
    readonly_fields = fields
    verbose_name_plural = f"recent deliveries (newest {RecentRowsFormSet.recent_limit})"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("engagement__lead", "engagement__action_company")


@admin.register(Workflow)
class WorkflowAdmin(SoftDeleteModelAdmin):
    """A delivery to a third party. Its signing secrets are never shown here."""

    list_display = ("name", "company", "kind", "is_active", "stages", "paused_at", "created_at")
    list_filter = ("kind", "is_active", ScopeFilter, COMPANY_FILTER, "created_at")
    search_fields = ("name", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    exclude = ("secret", "previous_secret")
    readonly_fields = ("has_secret", "previous_secret_expires_at", "failing_since", "all_deliveries")
    inlines = (RecentDeliveryInline,)

    @admin.display(boolean=True, description="signing secret set")
    def has_secret(self, obj):
        return bool(obj.secret)

    # --- workflows: operator control (the workflows helper's additions) ---
    form = WorkflowAdminForm
    actions = ("recover_deliveries", "resume_workflows")

    def save_model(self, request, obj, form, change):
        if obj.kind == WorkflowKind.WEBHOOK and not obj.secret:
            # Never shown here; staff read it through the API's rotate-secret, which shows a new one once.
            obj.secret = secret_generate()
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Attempt failed and dead deliveries again (last 7 days, or since failing began if earlier)", permissions=["change"]
    )
    def recover_deliveries(self, request, queryset):
        queued = 0
        for workflow in queryset:
            since = timezone.now() - ADMIN_RECOVER_DEFAULT
            if workflow.failing_since:
                # The delivery that began the failing streak was created a little before it.
                since = min(since, workflow.failing_since - ADMIN_RECOVER_DEFAULT)
            queued += workflow_recover(workflow=workflow, since=since)
        self.message_user(request, f"Queued {queued} deliveries for one manual attempt each.", messages.SUCCESS)

    @admin.action(description="Resume (lift a pause or a 410's disabling)", permissions=["change"])
    def resume_workflows(self, request, queryset):
        resumed = [workflow_resume(workflow=workflow) for workflow in queryset]
        self.message_user(request, f"Resumed {len(resumed)} workflow(s).", messages.SUCCESS)

    @admin.display(description="deliveries")
    def all_deliveries(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:workflows_delivery_changelist") + f"?workflow__id__exact={obj.pk}"
        return format_html('<a href="{}">All deliveries of this workflow</a>', url)


class DeliveryAttemptInline(ReadOnlyTabularInline):
    model = DeliveryAttempt
    fields = ("number", "created_at", "is_manual", "response_status", "succeeded", "duration_ms", "error_class")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(HistoryModelAdmin):
    """Workflow runs, one per (workflow, engagement), with every attempt.

    The fan-out and the workers write these rows; staff act on them through admin actions only.
    """

    list_display = ("created_at", "workflow", "engagement", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", ("workflow", admin.RelatedOnlyFieldListFilter), COMPANY_FILTER, "created_at")
    search_fields = ("=uuid", "=engagement__uuid", "workflow__name", "last_error")
    # An engagement reads as its lead and company action.
    list_select_related = ("workflow", "company", "engagement__lead", "engagement__action_company")
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)
    actions = ("replay_deliveries",)

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("workflows.change_delivery")

    @admin.action(description="Replay selected deliveries (one manual attempt each)", permissions=["replay"])
    def replay_deliveries(self, request, queryset):
        queued = deliveries_enqueue(delivery_ids=list(queryset.values_list("id", flat=True)), manual=True)
        self.message_user(request, f"Queued {queued} deliveries for one manual attempt each.", messages.SUCCESS)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(HistoryModelAdmin):
    """Each try of a delivery: what was sent and what came back."""

    list_display = ("created_at", "delivery", "number", "is_manual", "response_status", "succeeded", "duration_ms")
    list_filter = ("succeeded", "is_manual", "response_status", "created_at")
    search_fields = ("=uuid", "=delivery__uuid", "request_url", "error_message")
    list_select_related = ("delivery__workflow",)
    tenant_paths = ("delivery__company",)
    date_hierarchy = "created_at"
    exclude = ("request_headers", "response_headers")
    readonly_fields = ("request_headers_display", "response_headers_display")

    @admin.display(description="request headers")
    def request_headers_display(self, obj):
        return pretty_json(obj.request_headers)

    @admin.display(description="response headers")
    def response_headers_display(self, obj):
        return pretty_json(obj.response_headers)
