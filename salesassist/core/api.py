"""Building blocks every API view shares: tenancy scoping and uuid lookups."""
from rest_framework import serializers, viewsets

from .auth import request_company

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


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


class CompanyReadOnlyViewSet(CompanyScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Reading one company's rows, looked up by uuid."""


class CompanyUuidRelatedField(serializers.SlugRelatedField):
    """A related object named by uuid, chosen among the caller's company's rows only.

    Another company's uuid gets the same 400 field error as a uuid that does not exist.
    """

    def __init__(self, *, company_lookup: str = "company", **kwargs):
        self.company_lookup = company_lookup
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.filter(**{self.company_lookup: request_company(self.context["request"])})
