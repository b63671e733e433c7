"""The events the PIM emits; higher apps subscribe to them in their AppConfig.ready()."""
from salesassist.core.events import DomainEvent

# Emitted to ask whether a product (`product=`) or content (`content=`) may be soft deleted: before the
# delete, in its transaction, and by admin's delete page to list what prevents one. Subscribers only check:
# one that still needs it refuses by raising a DomainError (the delete does not happen).
product_deleting = DomainEvent("product.deleting")
content_deleting = DomainEvent("content.deleting")
