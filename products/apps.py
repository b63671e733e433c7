from django.apps import AppConfig


class ProductsConfig(AppConfig):
    """The PIM: products with variants, and content (documents, videos, articles, links)."""

    name = "products"
    verbose_name = "Products"
