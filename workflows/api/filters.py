"""Filters of the workflows API."""
import django_filters

from salesassist.core.filters import UuidFilter

from ..choices import DeliveryStatus, WorkflowKind
from ..event_types import EVENT_TYPES
from ..models import Delivery, Workflow


class WorkflowFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=WorkflowKind.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Workflow
        fields = ["kind", "is_active"]


class DeliveryFilterSet(django_filters.FilterSet):
    workflow = UuidFilter(field_name="workflow__uuid", help_text="A workflow's uuid.")
    engagement = UuidFilter(field_name="engagement__uuid", help_text="An engagement's uuid.")
    lead = UuidFilter(field_name="lead__uuid", help_text="A lead's uuid.")
    event_type = django_filters.ChoiceFilter(choices=[(name, name) for name in EVENT_TYPES])
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Delivery
        fields = ["workflow", "engagement", "lead", "event_type", "status"]
