"""Query filters of the action engine API lists (django-filter)."""
import django_filters

from action_engine.choices import Stage, SystemSlug
from action_engine.models import Action, ActionCompany, Engagement, Form
from salesassist.core.filters import IsoDateTimeFilter, UuidFilter


class ActionFilterSet(django_filters.FilterSet):
    """Filters of the catalogue."""

    system = django_filters.ChoiceFilter(field_name="system__slug", choices=SystemSlug.choices)
    type = django_filters.CharFilter(field_name="type__slug", help_text="An action type's slug.")
    data_type = django_filters.CharFilter(field_name="data_type__slug", help_text="A data type's slug.")
    is_global = django_filters.BooleanFilter(field_name="company", lookup_expr="isnull")
    is_published = django_filters.BooleanFilter()

    class Meta:
        model = Action
        fields = ["system", "type", "data_type", "is_global", "is_published"]


class CompanyActionFilterSet(django_filters.FilterSet):
    """Filters of the company action list."""

    action = UuidFilter(field_name="action__uuid", help_text="The catalogue action's uuid.")
    system = django_filters.ChoiceFilter(field_name="action__system__slug", choices=SystemSlug.choices)
    is_active = django_filters.BooleanFilter()
    is_published = django_filters.BooleanFilter()

    class Meta:
        model = ActionCompany
        fields = ["action", "system", "is_active", "is_published"]


class FormFilterSet(django_filters.FilterSet):
    """Filters of the form list."""

    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Form
        fields = ["created_after"]


class EngagementFilterSet(django_filters.FilterSet):
    """Filters of the engagement list: by lead, company action, stage and time (since inclusive, until not)."""

    lead = UuidFilter(field_name="lead__uuid", help_text="The lead's uuid.")
    action = UuidFilter(field_name="action_company__uuid", help_text="The company action's uuid.")
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Engagement
        fields = ["lead", "action", "stage", "since", "until"]
