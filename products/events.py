"""The events the PIM emits; higher apps subscribe to them in their AppConfig.ready()."""
from salesassist.core.events import DomainEvent

# Emitted before a product (`product=`) or content (`content=`) is soft deleted, in the same transaction:
# a subscriber that still needs it refuses by raising a DomainError (the delete does not happen).
product_deleting = DomainEvent("product.deleting")
content_deleting = DomainEvent("content.deleting")
