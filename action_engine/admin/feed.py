"""The lead's feed and stage per company action on crm's Lead admin: the action engine re-registers that admin
with its inlines and stage filters, so crm never imports the engine."""
from django.contrib import admin

from crm.admin import LeadAdmin
from crm.admin_tenancy import ReadOnlyTabularInline
from crm.models import Lead
from salesassist.core.admin import RecentRowsFormSet

from ..models import Engagement, LeadActionState
from .states import LeadActionFilter, LeadStageOnActionFilter


class LeadFeedInline(ReadOnlyTabularInline):
    """The lead's feed: the newest stages it reached on company actions."""

    model = Engagement
    formset = RecentRowsFormSet
    fk_name = "lead"
    fields = ("created_at", "action_company", "stage", "previous_stage")
    readonly_fields = fields
    verbose_name_plural = f"feed (newest {RecentRowsFormSet.recent_limit})"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("action_company")


class LeadActionStateInline(ReadOnlyTabularInline):
    """Where the lead stands on each company action."""

    model = LeadActionState
    fk_name = "lead"
    fields = ("action_company", "stage", "first_engaged_at", "last_engaged_at", "engagement_count", "utm_source")
    readonly_fields = fields
    verbose_name_plural = "stage per company action"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("action_company")


class LeadWithFeedAdmin(LeadAdmin):
    # Where the lead stands and the feed first: the newest things the lead did, then the browsers it used.
    inlines = (LeadActionStateInline, LeadFeedInline, *LeadAdmin.inlines)
    list_filter = (*LeadAdmin.list_filter, LeadActionFilter, LeadStageOnActionFilter)


admin.site.unregister(Lead)
admin.site.register(Lead, LeadWithFeedAdmin)
