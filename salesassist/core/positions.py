"""Ordered link rows (an action's workflows, a page's modules): each row has a `position`, lowest first."""
from .exceptions import InvalidInput

# The largest position a client may ask for: positions are PositiveIntegerFields, 32-bit on PostgreSQL.
MAX_POSITION = 2**31 - 1


def links_ordered(links, *, key: str) -> list:
    """The link rows in their order, with the linked object (`key`) loaded."""
    return list(links.select_related(key).order_by("position", "id"))


def links_next_position(links) -> int:
    """The position after the last of `links` (0 for none)."""
    last = links.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def links_reorder(*, links, key: str, order: list, field: str) -> None:
    """Set the positions of `links` to `order`, a list of uuids that must name each link exactly once:
    the linked object's (`key`) uuid, or the link's own when `key` is empty."""
    current = {getattr(link, key).uuid if key else link.uuid: link for link in links}
    if len(order) != len(set(order)) or set(order) != set(current):
        raise InvalidInput(
            "The new order must list every attached item exactly once.",
            errors={field: ["Must list every attached item exactly once."]},
        )
    for position, item_uuid in enumerate(order):
        link = current[item_uuid]
        if link.position != position:
            link.position = position
            link.save(update_fields=["position", "updated_at"])
