"""The lead's feed on crm's Lead admin: the action engine re-registers that admin with the feed inline, so
crm never imports the engine."""
from django.contrib import admin

from crm.admin import LeadAdmin
from crm.admin_tenancy import ReadOnlyTabularInline
from crm.models import Lead
from salesassist.core.admin import RecentRowsFormSet

from ..models import Engagement


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


class LeadWithFeedAdmin(LeadAdmin):
    # The feed first: the newest things the lead did, then the browsers it used.
    inlines = (LeadFeedInline, *LeadAdmin.inlines)


admin.site.unregister(Lead)
admin.site.register(Lead, LeadWithFeedAdmin)
