"""Write operations of the PIM: products with their variants, and content."""
import logging

from django.db import IntegrityError, transaction

from crm.models import Company
from salesassist.core.exceptions import InvalidInput

from .events import content_deleting, product_deleting
from .models import Content, Product, Variant

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = ("name", "sku", "description", "price", "currency", "attributes", "is_published")
VARIANT_FIELDS = ("name", "sku", "price", "attributes")
# The API writes no file (files are uploaded in admin).
CONTENT_FIELDS = ("title", "kind", "url", "body", "file", "is_published")


def _only(fields: dict, allowed: tuple[str, ...], function: str) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{function}() got unexpected fields {sorted(unknown)}")
    return fields


def _sku_taken(row: Product | Variant, others) -> bool:
    """Whether another row of `others` has the row's SKU; an empty SKU is never taken."""
    return bool(row.sku) and others.filter(sku=row.sku).exclude(pk=row.pk).exists()


def _product_check_sku(*, product: Product) -> None:
    if _sku_taken(product, Product.objects.filter(company_id=product.company_id)):
        raise InvalidInput(
            "Another product of this company has this SKU.", errors={"sku": ["Another product has this SKU."]}
        )


def _variants_replace(*, product: Product, variants: list[dict]) -> None:
    """Make the product's variants exactly `variants`: items with a uuid update that variant, items
    without one are created, and variants not listed are deleted."""
    existing = {variant.uuid: variant for variant in product.variants.all()}
    errors: dict[str, list[str]] = {}
    skus: dict[str, int] = {}
    for index, item in enumerate(variants):
        if item.get("uuid") is not None and item["uuid"] not in existing:
            errors[f"variants.{index}.uuid"] = ["Not a variant of this product."]
        if item.get("uuid") is None:
            for name in ("name", "price"):
                if name not in item:
                    errors[f"variants.{index}.{name}"] = ["A new variant needs this field."]
        # A listed variant without "sku" keeps the one it has: that is the SKU to compare.
        current = existing.get(item.get("uuid"))
        sku = (item["sku"] if "sku" in item else current.sku if current else "") or ""
        if sku and sku in skus:
            errors[f"variants.{index}.sku"] = [f"The same SKU as variant {skus[sku]}."]
        skus.setdefault(sku, index)
    if errors:
        raise InvalidInput("The variants are invalid.", errors=errors)

    kept = {item["uuid"] for item in variants if item.get("uuid") is not None}
    product.variants.exclude(uuid__in=kept).delete()
    # Clear the SKUs of updated variants first, so two variants can swap SKUs without a conflict.
    product.variants.filter(uuid__in=kept).update(sku="")
    for item in variants:
        values = {name: item[name] for name in VARIANT_FIELDS if name in item}
        variant = existing.get(item.get("uuid")) or Variant(product=product)
        for name, value in values.items():
            setattr(variant, name, value)
        if variant.pk is None and "attributes" not in values:
            variant.attributes = {}
        variant.save()


def _product_save(*, product: Product, variants: list[dict] | None) -> Product:
    _product_check_sku(product=product)
    try:
        with transaction.atomic():
            product.save()
            if variants is not None:
                _variants_replace(product=product, variants=variants)
    except IntegrityError as exc:
        # Only a concurrent write reaches this: the checks above cover the constraints. The database's
        # own message names internal ids: it is logged, never returned.
        logger.warning("SKU conflict saving product %s: %s", product.uuid, exc)
        raise InvalidInput(
            "The product conflicts with another one (SKU).",
            errors={"sku": ["Another product, or another variant of this one, has this SKU."]},
        ) from exc
    return product


def product_create(*, company: Company, variants: list[dict] | None = None, **fields) -> Product:
    """A new product of the company, with its variants."""
    _only(fields, PRODUCT_FIELDS, "product_create")
    fields.setdefault("attributes", {})
    return _product_save(product=Product(company=company, **fields), variants=variants or [])


def product_update(*, product: Product, variants: list[dict] | None = None, **fields) -> Product:
    """Change a product; when `variants` is given it replaces the whole set (see _variants_replace)."""
    _only(fields, PRODUCT_FIELDS, "product_update")
    for name, value in fields.items():
        setattr(product, name, value)
    return _product_save(product=product, variants=variants)


def product_delete_check(*, product: Product) -> None:
    """Raise the DomainError of a subscriber of `product_deleting` that still needs the product (a page shows it)."""
    product_deleting.emit(product=product)


@transaction.atomic
def product_soft_delete(*, product: Product) -> Product:
    """Hide a product that no subscriber of `product_deleting` still needs."""
    product_delete_check(product=product)
    product.delete()
    return product


# --- Variants one by one: admin edits them a row at a time (the API writes a product's whole set) ----


def _variant_save(*, variant: Variant, fields: dict, service: str) -> Variant:
    for name, value in _only(fields, VARIANT_FIELDS, service).items():
        setattr(variant, name, value)
    if _sku_taken(variant, Variant.objects.filter(product_id=variant.product_id)):
        raise InvalidInput(
            "Another variant of this product has this SKU.", errors={"sku": ["Another variant has this SKU."]}
        )
    variant.save()
    return variant


def variant_create(*, product: Product, **fields) -> Variant:
    """A new variant of the product."""
    return _variant_save(variant=Variant(product=product, attributes={}), fields=fields, service="variant_create")


def variant_update(*, variant: Variant, **fields) -> Variant:
    """Change one variant of a product."""
    return _variant_save(variant=variant, fields=fields, service="variant_update")


def variant_delete(*, variant: Variant) -> None:
    """Remove one variant of a product."""
    variant.delete()


# --- Content -----------------------------------------------------------------------------------------


def content_validate(*, content: Content) -> None:
    """Content shows something: a url, a body or a file."""
    if not (content.url or content.body or content.file):
        message = ["Give a url or a body."]
        raise InvalidInput("Content needs a url or a body.", errors={"url": message, "body": message})


def content_create(*, company: Company, **fields) -> Content:
    """A new document, video, article or link of the company."""
    _only(fields, CONTENT_FIELDS, "content_create")
    content = Content(company=company, **fields)
    content_validate(content=content)
    content.save()
    return content


def content_update(*, content: Content, **fields) -> Content:
    """Change a piece of content."""
    _only(fields, CONTENT_FIELDS, "content_update")
    for name, value in fields.items():
        setattr(content, name, value)
    content_validate(content=content)
    content.save()
    return content


def content_delete_check(*, content: Content) -> None:
    """Raise the DomainError of a subscriber of `content_deleting` that still needs the content (a page shows it)."""
    content_deleting.emit(content=content)


@transaction.atomic
def content_soft_delete(*, content: Content) -> Content:
    """Hide content that no subscriber of `content_deleting` still needs."""
    content_delete_check(content=content)
    content.delete()
    return content
