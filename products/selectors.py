"""Read queries of the PIM."""
from django.db.models import QuerySet

from .models import Product


def product_list(*, company) -> QuerySet[Product]:
    """The company's alive products with their variants (one extra query for all variants of a page)."""
    return Product.objects.filter(company=company).prefetch_related("variants")
