"""Admin of the engagement history and the messages engagements carry: read only."""
from django.contrib import admin

from action_engine.models import Engagement, Message
from crm.admin_tenancy import HistoryModelAdmin
from salesassist.core.admin import COMPANY_FILTER, pretty_json


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
