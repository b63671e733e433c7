"""Filters of the workflows API."""
import django_filters

from ..choices import DeliveryStatus, WorkflowKind
from ..models import Delivery, Workflow


class WorkflowFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=WorkflowKind.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Workflow
        fields = ["kind", "is_active"]


class DeliveryFilterSet(django_filters.FilterSet):
    workflow = django_filters.UUIDFilter(field_name="workflow__uuid", help_text="A workflow's uuid.")
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid", help_text="An engagement's uuid.")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Delivery
        fields = ["workflow", "engagement", "status"]
