"""The events the action engine emits; higher apps subscribe to them in their AppConfig.ready()."""
from salesassist.core.events import DomainEvent

# Emitted by engagement_record inside its transaction, once the engagement row exists: `engagement=`.
engagement_recorded = DomainEvent("engagement.recorded")
