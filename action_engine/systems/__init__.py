"""Action systems: each powers a kind of action page, orders its stages and says what it can show.

One module per system; `SYSTEMS` is the registry the rest of the code reads. Each system also
validates the message of its result stage (`validate_result`): the page is public, so the server
decides what a result may contain, never the browser.
"""

from . import commerce, content, forms
from .base import ActionSystemSpec, parse_uuid

SYSTEMS: dict[str, ActionSystemSpec] = {spec.slug: spec for spec in (forms.SPEC, commerce.SPEC, content.SPEC)}


def system_spec(slug: str) -> ActionSystemSpec:
    """The action system with this slug (KeyError for none)."""
    return SYSTEMS[slug]


__all__ = ["SYSTEMS", "ActionSystemSpec", "parse_uuid", "system_spec"]
