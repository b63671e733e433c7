"""Prefilling an action page's form with what the company already knows about its lead.

Off by default: a page gets a lead's values only for the fields its company action's config["prefill"]
lists (e.g. `{"prefill": ["first_name", "email"]}`), and only from PREFILLABLE_LEAD_FIELDS. Anyone holding
the link sees them, so a company lists only what it is happy to show there.
"""
from crm.models import Lead

# The lead fields a page may be given, and how each is read ("name" is the full name).
PREFILLABLE_LEAD_FIELDS = {
    "first_name": lambda lead: lead.first_name,
    "last_name": lambda lead: lead.last_name,
    "name": lambda lead: lead.full_name,
    "email": lambda lead: lead.email,
    "phone": lambda lead: lead.phone,
}


def prefill_config_errors(config) -> list[str]:
    """What is wrong with a company action config's "prefill" (none when it is absent)."""
    if not isinstance(config, dict) or "prefill" not in config:
        return []
    fields = config["prefill"]
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        return ["Must be a list of lead field names."]
    unknown = sorted(set(fields) - set(PREFILLABLE_LEAD_FIELDS))
    if unknown:
        allowed = ", ".join(PREFILLABLE_LEAD_FIELDS)
        return [f"Not a field a page may prefill: {', '.join(unknown)}. Allowed: {allowed}."]
    return []


def lead_prefill(*, config, lead: Lead) -> dict[str, str]:
    """The lead's values for the fields `config` lets the page prefill, leaving out empty ones; {} by default.

    A config saved before it was checked is read as it is, never beyond PREFILLABLE_LEAD_FIELDS."""
    fields = config.get("prefill") if isinstance(config, dict) else None
    if not isinstance(fields, list):
        return {}
    values = {name: PREFILLABLE_LEAD_FIELDS[name](lead) for name in fields if name in PREFILLABLE_LEAD_FIELDS}
    return {name: value for name, value in values.items() if value}
