"""The events the crm domain emits; higher apps subscribe to them in their AppConfig.ready()."""
from salesassist.core.events import DomainEvent

# Emitted by the lead services inside their transaction, once the row is saved: `lead=` and `changed=`, the
# names of the fields set (on create, every field given a value) — never their values.
lead_created = DomainEvent("lead.created")
lead_updated = DomainEvent("lead.updated")
# Emitted by the erase service inside its transaction, after the lead's personal data is gone: `lead=` (the
# anonymous skeleton: its uuid and company stay) and `erased_at=`.
lead_erased = DomainEvent("lead.erased")
