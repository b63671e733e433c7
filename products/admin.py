"""Admin of the PIM: products with their variants, and content; every write goes through the services."""
from django.contrib import admin

from crm.admin_tenancy import BaseModelAdmin, ScopedTabularInline, SoftDeleteModelAdmin
from salesassist.core.admin import (
    COMPANY_FILTER,
    ConstraintCheckingForm,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    UniqueRowsFormSet,
    cleaned_fields,
)

from .models import Content, Product, Variant
from .services import (
    CONTENT_FIELDS,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
    content_create,
    content_delete_check,
    content_soft_delete,
    content_update,
    content_validate,
    product_create,
    product_delete_check,
    product_soft_delete,
    product_update,
    variant_create,
    variant_delete,
    variant_update,
)


class VariantFormSet(ServiceWritesFormSetMixin, UniqueRowsFormSet):
    """A product's variants: added, changed and removed through the variant services."""

    def create_row(self, form):
        return variant_create(product=self.instance, **cleaned_fields(form, VARIANT_FIELDS))

    def update_row(self, form, row):
        return variant_update(variant=row, **cleaned_fields(form, VARIANT_FIELDS))

    def delete_row(self, row):
        variant_delete(variant=row)


class VariantInline(ScopedTabularInline):
    model = Variant
    formset = VariantFormSet
    extra = 0
    fields = ("name", "sku", "price", "attributes")


class ProductAdminForm(ConstraintCheckingForm):
    constraint_messages = {
        "products_product_unique_sku_per_company": ("sku", "This company already has a product with this SKU."),
    }


@admin.register(Product)
class ProductAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """Something a company sells, with its variants."""

    form = ProductAdminForm
    # The variants are the inline's, written row by row after the product (VariantFormSet).
    create_service = product_create
    update_service = product_update
    delete_service = product_soft_delete
    delete_check_service = product_delete_check
    instance_kwarg = "product"
    service_fields = PRODUCT_FIELDS
    fixed_fields = ("company",)
    list_display = ("name", "sku", "company", "price", "currency", "is_published", "created_at")
    list_filter = ("is_published", COMPANY_FILTER, "currency", "created_at")
    search_fields = ("name", "sku", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    inlines = (VariantInline,)


@admin.register(Variant)
class VariantAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A sellable variation of a product."""

    create_service = variant_create
    update_service = variant_update
    delete_service = variant_delete
    instance_kwarg = "variant"
    service_fields = VARIANT_FIELDS
    fixed_fields = ("product",)
    list_display = ("name", "sku", "product", "price", "created_at")
    list_filter = (("product__company", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("name", "sku", "product__name", "=uuid")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    tenant_paths = ("product__company",)


class ContentAdminForm(ServiceRulesForm):
    """Content shows something (services.content_validate)."""

    def check_row(self, row):
        content_validate(content=row)


@admin.register(Content)
class ContentAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A document, video, article or link that content action pages show."""

    form = ContentAdminForm
    create_service = content_create
    update_service = content_update
    delete_service = content_soft_delete
    delete_check_service = content_delete_check
    instance_kwarg = "content"
    service_fields = CONTENT_FIELDS
    fixed_fields = ("company",)
    list_display = ("title", "kind", "company", "is_published", "created_at")
    list_filter = ("kind", "is_published", COMPANY_FILTER, "created_at")
    search_fields = ("title", "url", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
