"""Admin of workflows, their deliveries and every delivery attempt."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from salesassist.core.admin import (
    COMPANY_FILTER,
    HistoryModelAdmin,
    ReadOnlyTabularInline,
    RecentRowsFormSet,
    ScopeFilter,
    SoftDeleteModelAdmin,
    pretty_json,
)

from .models import Delivery, DeliveryAttempt, Workflow


class RecentDeliveryInline(ReadOnlyTabularInline):
    """The workflow's most recent deliveries; the link under the form lists them all."""

    model = Delivery
    formset = RecentRowsFormSet
    fields = ("created_at", "engagement", "status", "attempts", "last_status_code", "next_attempt_at")
    readonly_fields = fields
    verbose_name_plural = f"recent deliveries (newest {RecentRowsFormSet.recent_limit})"


@admin.register(Workflow)
class WorkflowAdmin(SoftDeleteModelAdmin):
    """A delivery to a third party. Its signing secrets are never shown here."""

    list_display = ("name", "company", "kind", "is_active", "stages", "paused_at", "created_at")
    list_filter = ("kind", "is_active", ScopeFilter, COMPANY_FILTER, "created_at")
    search_fields = ("name", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    exclude = ("secret", "previous_secret")
    readonly_fields = ("has_secret", "previous_secret_expires_at", "all_deliveries")
    inlines = (RecentDeliveryInline,)

    @admin.display(boolean=True, description="signing secret set")
    def has_secret(self, obj):
        return bool(obj.secret)

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
    list_select_related = ("workflow", "engagement", "company")
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(HistoryModelAdmin):
    """Each try of a delivery: what was sent and what came back."""

    list_display = ("created_at", "delivery", "number", "is_manual", "response_status", "succeeded", "duration_ms")
    list_filter = ("succeeded", "is_manual", "response_status", "created_at")
    search_fields = ("=uuid", "=delivery__uuid", "request_url", "error_message")
    list_select_related = ("delivery__workflow",)
    date_hierarchy = "created_at"
    exclude = ("request_headers", "response_headers")
    readonly_fields = ("request_headers_display", "response_headers_display")

    @admin.display(description="request headers")
    def request_headers_display(self, obj):
        return pretty_json(obj.request_headers)

    @admin.display(description="response headers")
    def response_headers_display(self, obj):
        return pretty_json(obj.response_headers)
