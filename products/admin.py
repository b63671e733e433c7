"""Admin of the PIM: products with their variants, and content."""
from django.contrib import admin

from crm.admin_tenancy import BaseModelAdmin, ScopedTabularInline, SoftDeleteModelAdmin
from salesassist.core.admin import COMPANY_FILTER, ConstraintCheckingForm, UniqueRowsFormSet

from .models import Content, Product, Variant


class VariantInline(ScopedTabularInline):
    model = Variant
    formset = UniqueRowsFormSet
    extra = 0
    fields = ("name", "sku", "price", "attributes")


class ProductAdminForm(ConstraintCheckingForm):
    constraint_messages = {
        "products_product_unique_sku_per_company": ("sku", "This company already has a product with this SKU."),
    }


@admin.register(Product)
class ProductAdmin(SoftDeleteModelAdmin):
    """Something a company sells, with its variants."""

    form = ProductAdminForm
    list_display = ("name", "sku", "company", "price", "currency", "is_published", "created_at")
    list_filter = ("is_published", COMPANY_FILTER, "currency", "created_at")
    search_fields = ("name", "sku", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    inlines = (VariantInline,)


@admin.register(Variant)
class VariantAdmin(BaseModelAdmin):
    """A sellable variation of a product."""

    list_display = ("name", "sku", "product", "price", "created_at")
    list_filter = (("product__company", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("name", "sku", "product__name", "=uuid")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    tenant_paths = ("product__company",)


@admin.register(Content)
class ContentAdmin(SoftDeleteModelAdmin):
    """A document, video, article or link that content action pages show."""

    list_display = ("title", "kind", "company", "is_published", "created_at")
    list_filter = ("kind", "is_published", COMPANY_FILTER, "created_at")
    search_fields = ("title", "url", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
