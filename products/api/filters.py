"""Query filters of the products API lists (django-filter)."""
import django_filters

from products.choices import ContentKind
from products.models import Content, Product


class ProductFilterSet(django_filters.FilterSet):
    """Filters of the product list."""

    is_published = django_filters.BooleanFilter()
    currency = django_filters.CharFilter()
    sku = django_filters.CharFilter()
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["is_published", "currency", "sku", "price_min", "price_max"]


class ContentFilterSet(django_filters.FilterSet):
    """Filters of the content list."""

    kind = django_filters.MultipleChoiceFilter(choices=ContentKind.choices)
    is_published = django_filters.BooleanFilter()

    class Meta:
        model = Content
        fields = ["kind", "is_published"]
