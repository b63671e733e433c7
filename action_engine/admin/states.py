"""Admin of the pipeline state (where each lead stands on each company action), and its filters: view only,
as it is derived from the engagements."""
from django.contrib import admin
from django.db.models import Q

from action_engine.choices import Stage
from action_engine.models import ActionCompany, LeadActionState
from action_engine.selectors import leads_at_stage
from action_engine.systems import SYSTEMS
from crm.admin_tenancy import TenantScopedAdminMixin
from salesassist.core.admin import COMPANY_FILTER, ViewOnlyMixin


def reached_q(stage: str) -> Q:
    """States that reached `stage` or a later one, whichever system's pipeline their action has."""
    reached = Q(pk__in=[])
    for spec in SYSTEMS.values():
        if stage in spec.pipeline:
            reached |= Q(action_company__action__system__slug=spec.slug, stage_rank__gte=spec.stage_rank(stage))
    return reached


class ReachedFilter(admin.SimpleListFilter):
    """States at a stage or past it (a later stage counts, as in the funnel and the board)."""

    title = "reached"
    parameter_name = "reached"

    def lookups(self, request, model_admin):
        return Stage.choices

    def queryset(self, request, queryset):
        return queryset.filter(reached_q(self.value())) if self.value() in Stage.values else queryset


@admin.register(LeadActionState)
class LeadActionStateAdmin(ViewOnlyMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    """Where each lead stands on each company action: filter by action, current stage or stage reached."""

    list_display = ("lead", "action_company", "stage", "last_engaged_at", "engagement_count", "utm_source", "company")
    list_filter = (("action_company", admin.RelatedOnlyFieldListFilter), "stage", ReachedFilter, COMPANY_FILTER)
    list_select_related = ("lead", "action_company", "company")
    search_fields = ("=lead__uuid", "lead__email", "action_company__name", "utm_source")
    ordering = ("-last_engaged_at", "-id")
    show_full_result_count = False


class LeadStageOnActionFilter(admin.SimpleListFilter):
    """On crm's Lead admin: leads by their current stage on a company action (both filters match one state)."""

    title = "stage on an action"
    parameter_name = "action_stage"
    action_parameter = "action_company"

    def lookups(self, request, model_admin):
        return Stage.choices

    def queryset(self, request, queryset):
        stage = self.value() if self.value() in Stage.values else None
        action = request.GET.get(self.action_parameter, "")
        action_uuid = (
            ActionCompany.objects.filter(pk=action).values_list("uuid", flat=True).first() if action.isdigit() else None
        )
        if stage is None and action_uuid is None:
            return queryset
        return leads_at_stage(leads=queryset, action=action_uuid, stage=stage)


class LeadActionFilter(admin.SimpleListFilter):
    """On crm's Lead admin: leads that engaged on a company action (of the companies the user sees)."""

    title = "company action"
    parameter_name = LeadStageOnActionFilter.action_parameter

    def lookups(self, request, model_admin):
        actions = ActionCompany.objects.filter(company__in=model_admin.get_queryset(request).values("company"))
        return [(str(pk), name) for pk, name in actions.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        return queryset  # applied with the stage by LeadStageOnActionFilter, on the same state row
