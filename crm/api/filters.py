"""Query filters of the CRM API lists (django-filter)."""
import django_filters

from crm.choices import LeadStatus
from crm.models import Lead, LeadReceiver, Visitor
from crm.services import normalize_email
from salesassist.core.filters import IsoDateTimeFilter, UuidFilter


class LeadFilterSet(django_filters.FilterSet):
    """Filters of the lead list."""

    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.CharFilter()
    owner = django_filters.CharFilter(field_name="owner__username", help_text="The owner's username.")
    email = django_filters.CharFilter(method="filter_email", help_text="Exact email, case-insensitive.")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Lead
        fields = ["status", "source", "owner", "email", "created_after", "created_before", "updated_after"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(email_normalized=normalize_email(value))


class VisitorFilterSet(django_filters.FilterSet):
    """Filters of the visitor list."""

    lead = UuidFilter(field_name="lead__uuid", help_text="The lead's uuid.")
    seen_after = IsoDateTimeFilter(field_name="last_seen_at", lookup_expr="gte")

    class Meta:
        model = Visitor
        fields = ["lead", "seen_after"]


class LeadReceiverFilterSet(django_filters.FilterSet):
    """Filters of the lead receiver list."""

    is_active = django_filters.BooleanFilter()

    class Meta:
        model = LeadReceiver
        fields = ["is_active"]
