"""The CRM's leads with their stage on each company action: the action engine's extension of crm's lead API.

The crm host's URLconf serves the leads with `LeadWithStagesViewSet` (crm never imports the engine): the
list and the detail show each lead's current stage per company action, and the list filters by it.
"""
import django_filters
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from action_engine.choices import Stage
from action_engine.models import LeadActionState
from action_engine.selectors import leads_at_stage, leads_with_action_stages
from crm.api.filters import LeadFilterSet
from crm.api.serializers import LeadSerializer
from crm.api.views import TAG_LEADS, LeadViewSet
from crm.models import Lead
from salesassist.core.api import UuidField, crud_schema
from salesassist.core.filters import UuidFilter


class LeadActionStageSerializer(serializers.ModelSerializer):
    """Where the lead stands on one company action."""

    action = UuidField(source="action_company.uuid", read_only=True, help_text="The company action.")
    action_name = serializers.CharField(source="action_company.name", read_only=True)

    class Meta:
        model = LeadActionState
        fields = ["action", "action_name", "stage", "first_engaged_at", "last_engaged_at"]
        read_only_fields = fields


# The crm host's one lead: its schema keeps the name `Lead` that clients and the crm's own docs know.
@extend_schema_serializer(component_name="Lead")
class LeadWithStagesSerializer(LeadSerializer):
    """A lead, with its current stage on each company action it engaged on."""

    action_stages = LeadActionStageSerializer(
        source="alive_action_states", many=True, read_only=True, help_text="Its stage per company action, by name."
    )

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "action_stages"]

    def to_representation(self, lead):
        if not hasattr(lead, "alive_action_states"):  # a lead just written, not read through the list's query
            lead = leads_with_action_stages(leads=Lead.objects.filter(pk=lead.pk)).get()
        return super().to_representation(lead)


class LeadStageFilterSet(LeadFilterSet):
    """The lead list's filters, plus the stage on a company action."""

    action = UuidFilter(method="filter_stage", help_text="Only leads that engaged on this company action (uuid).")
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices,
        method="filter_stage",
        help_text="Only leads whose current stage is this one (on `action`, or on any company action).",
    )

    class Meta(LeadFilterSet.Meta):
        fields = [*LeadFilterSet.Meta.fields, "action", "stage"]

    def filter_stage(self, queryset, name, value):
        return queryset  # both at once in filter_queryset: the same state row must match them

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        action, stage = self.form.cleaned_data.get("action"), self.form.cleaned_data.get("stage")
        if action is None and not stage:
            return queryset
        return leads_at_stage(leads=queryset, action=action, stage=stage or None)


@crud_schema(
    operation_prefix="leads",
    noun="lead",
    serializer=LeadWithStagesSerializer,
    tag=TAG_LEADS,
    destroy_description="Soft delete: the lead disappears from the API, its engagements and visitors stay.",
)
class LeadWithStagesViewSet(LeadViewSet):
    """A company's leads with their stage on each company action; filter with `?action=<uuid>&stage=`."""

    queryset = leads_with_action_stages(leads=Lead.objects.select_related("owner"))
    serializer_class = LeadWithStagesSerializer
    filterset_class = LeadStageFilterSet
