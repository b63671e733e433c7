"""The commerce system: a page lists products; the result is a purchased cart."""

from decimal import Decimal

from action_engine.choices import ModuleKind, Stage, SystemSlug
from salesassist.core.exceptions import InvalidInput

from .base import ActionSystemSpec, parse_uuid

MAX_CART_LINES = 100
MAX_QUANTITY = 10_000


def _quantity(value) -> int | None:
    # bool is an int in Python; a cart line of `true` items is not a quantity.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        return None
    return value


def validate_cart(*, config, message: dict) -> dict:
    """Only the action's products and their variants; prices and totals are recomputed here.

    Whatever prices or totals the browser sent are ignored: the stored cart is the server's.
    """
    items = message.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidInput("The cart is empty.", errors={"message.items": ["Give at least one item."]})
    if len(items) > MAX_CART_LINES:
        raise InvalidInput("Too many cart lines.", errors={"message.items": [f"At most {MAX_CART_LINES} lines."]})

    products, variants = config.products, config.variants
    errors: dict[str, list[str]] = {}
    lines = []
    for index, item in enumerate(items):
        prefix = f"message.items.{index}"
        if not isinstance(item, dict):
            errors[prefix] = ["Must be an object with product, variant and quantity."]
            continue
        product = products.get(parse_uuid(item.get("product")))
        if product is None:
            errors[f"{prefix}.product"] = ["Not a product of this action."]
            continue
        variant = None
        if item.get("variant") not in (None, ""):
            variant = variants.get(parse_uuid(item.get("variant")))
            if variant is None or variant.product_uuid != product.uuid:
                errors[f"{prefix}.variant"] = ["Not a variant of this product."]
                continue
        quantity = _quantity(item.get("quantity", 1))
        if quantity is None:
            errors[f"{prefix}.quantity"] = [f"Must be a whole number from 1 to {MAX_QUANTITY}."]
            continue
        unit_price = variant.price if variant else product.price
        lines.append(
            {
                "product": str(product.uuid),
                "variant": str(variant.uuid) if variant else None,
                "name": variant.name if variant else product.name,
                "sku": (variant.sku if variant and variant.sku else product.sku),
                "quantity": quantity,
                "unit_price": str(unit_price),
                "line_total": str(unit_price * quantity),
                "currency": product.currency,
            }
        )
    if errors:
        raise InvalidInput("The cart is invalid; see errors.", errors=errors)
    currencies = {line["currency"] for line in lines}
    if len(currencies) > 1:
        raise InvalidInput("The cart mixes currencies.", errors={"message.items": ["All items need one currency."]})
    total = sum((Decimal(line["line_total"]) for line in lines), Decimal("0"))
    return {"items": lines, "currency": currencies.pop(), "total": str(total)}


SPEC = ActionSystemSpec(
    slug=SystemSlug.COMMERCE,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.PURCHASED),
    module_kinds=frozenset({ModuleKind.PRODUCT}),
    validate_result=validate_cart,
)
