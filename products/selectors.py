"""Read queries of the PIM."""
from django.db.models import QuerySet

from action_engine.models import ActionCompanySystemModule

from .models import Content, Product


def product_list(*, company) -> QuerySet[Product]:
    """The company's alive products with their variants (one extra query for all variants of a page)."""
    return Product.objects.filter(company=company).prefetch_related("variants")


def product_module_names(*, product: Product) -> list[str]:
    """Names of the alive company actions whose pages show this product."""
    return _module_action_names(ActionCompanySystemModule.objects.filter(product=product))


def content_module_names(*, content: Content) -> list[str]:
    """Names of the alive company actions whose pages show this content."""
    return _module_action_names(ActionCompanySystemModule.objects.filter(content=content))


def _module_action_names(modules) -> list[str]:
    return list(
        modules.filter(action_company__deleted_at__isnull=True)
        .order_by("action_company__name")
        .values_list("action_company__name", flat=True)
        .distinct()
    )
