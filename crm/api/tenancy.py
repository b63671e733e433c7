"""The API's tenancy: views and related fields that see only the caller's company's rows."""
from django.shortcuts import get_object_or_404
from rest_framework import viewsets

from salesassist.core.api import UUID_PATTERN, UuidRelatedField
from salesassist.core.viewsets import ServiceWritesMixin

from ..auth import request_company


class CompanyScopedMixin:
    """Limits a view's queryset to the caller's company, so another company's rows answer 404.

    `company_lookup` is the path from the model to its company (e.g. "product__company").
    """

    company_lookup = "company"
    lookup_field = "uuid"
    lookup_value_regex = UUID_PATTERN

    @property
    def company(self):
        return request_company(self.request)

    def get_queryset(self):
        return super().get_queryset().filter(**{self.company_lookup: self.company})


class CompanyModelViewSet(CompanyScopedMixin, viewsets.ModelViewSet):
    """CRUD on one company's rows, looked up by uuid."""


class CompanyServiceModelViewSet(ServiceWritesMixin, CompanyModelViewSet):
    """CRUD on one company's rows, looked up by uuid, written through the domain's services."""


class CompanyReadOnlyViewSet(CompanyScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Reading one company's rows, looked up by uuid."""


class NestedParentMixin:
    """A view under `<parent>/{<parent_lookup_kwarg>}/…`: the parent is one of the caller's company's rows.

    A parent of another company (or none) is a 404, like any other foreign object.
    """

    parent_queryset = None  # the parent model's queryset, before company scoping
    parent_lookup_kwarg = "parent_uuid"
    parent_company_lookup = "company"

    def get_parent(self):
        if not hasattr(self, "_parent"):
            queryset = self.parent_queryset.all().filter(**{self.parent_company_lookup: request_company(self.request)})
            self._parent = get_object_or_404(queryset, uuid=self.kwargs[self.parent_lookup_kwarg])
        return self._parent


class CompanyUuidRelatedField(UuidRelatedField):
    """A related object named by uuid, chosen among the caller's company's rows only.

    Another company's uuid gets the same 400 field error as a uuid that does not exist.
    """

    def __init__(self, *, company_lookup: str = "company", **kwargs):
        self.company_lookup = company_lookup
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.filter(**{self.company_lookup: request_company(self.context["request"])})
