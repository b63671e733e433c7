"""The PIM: what action pages show — products with variants, and content."""
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from crm.models import Company
from salesassist.core.models import ConfigVersionedModel, ConfigVersionedSoftDeleteModel

from .choices import ContentKind

__all__ = ["Product", "Variant", "Content"]


class Product(ConfigVersionedSoftDeleteModel):
    """Something a company sells; a commerce action page lists products and their variants."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code.")
    attributes = models.JSONField(default=dict, blank=True)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "name"], name="products_product_company_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sku"],
                condition=Q(deleted_at__isnull=True) & ~Q(sku=""),
                name="products_product_unique_sku_per_company",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="products_product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(ConfigVersionedModel):
    """A sellable variation of a product (size, colour…), with its own price."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["product", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sku"], condition=~Q(sku=""), name="products_variant_unique_sku_per_product"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="products_variant_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} — {self.name}"


class Content(ConfigVersionedSoftDeleteModel):
    """A document, video, article or link that a content action page shows."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="content")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ContentKind.choices, default=ContentKind.DOCUMENT)
    url = models.URLField(max_length=500, blank=True)
    file = models.FileField(upload_to="content/%Y/%m/", blank=True)
    body = models.TextField(blank=True)
    is_published = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "content"
        ordering = ["title"]
        indexes = [models.Index(fields=["company", "title"], name="products_content_company_title")]

    def __str__(self) -> str:
        return self.title
