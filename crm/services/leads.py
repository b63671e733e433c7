"""Leads, their dedupe keys, the events of their writes (lead_created, lead_updated), and the visitors linked
to them."""
import re

from django.db import IntegrityError, transaction

from salesassist.core.exceptions import InvalidInput

from ..errors import CrmError
from ..events import lead_created, lead_updated
from ..models import Company, Lead, Visitor
from .companies import company_has_member


def _known_fields(fields: dict, known: tuple[str, ...], service: str) -> dict:
    """`fields` as given; one the service does not write is a programming error, not input to ignore."""
    unknown = set(fields) - set(known)
    if unknown:
        raise TypeError(f"{service}() got unexpected fields {sorted(unknown)}")
    return fields


LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "owner", "status", "source", "custom_fields")
# What a lead.updated event may name as changed: the fields writes set, and the lead's own unsubscribe.
LEAD_EVENT_FIELDS = (*LEAD_FIELDS, "unsubscribed_at")
_LEAD_DUPLICATE_MESSAGES = {
    "email": "Another lead of this company has this email address.",
    "phone": "Another lead of this company has this phone number.",
}


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def normalize_phone(phone: str) -> str:
    """Digits only, keeping a leading + so international and local forms stay distinct."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    return f"+{digits}" if phone.startswith("+") and digits else digits


def lead_normalize(*, lead: Lead) -> Lead:
    """Fill the lead's dedupe keys, the normalized copies of its email and phone; every lead write does."""
    lead.email_normalized = normalize_email(lead.email)
    lead.phone_normalized = normalize_phone(lead.phone)
    return lead


def _lead_duplicate_errors(*, lead: Lead) -> dict[str, list[str]]:
    """Field errors for the alive leads of the company that share the lead's normalized email or phone."""
    others = Lead.objects.filter(company_id=lead.company_id).exclude(pk=lead.pk)
    errors = {}
    if lead.email_normalized and others.filter(email_normalized=lead.email_normalized).exists():
        errors["email"] = [_LEAD_DUPLICATE_MESSAGES["email"]]
    if lead.phone_normalized and others.filter(phone_normalized=lead.phone_normalized).exists():
        errors["phone"] = [_LEAD_DUPLICATE_MESSAGES["phone"]]
    return errors


def lead_validate(*, lead: Lead) -> None:
    """Refuse an owner from outside the lead's company, and an email or phone another alive lead of it has."""
    if not company_has_member(company_id=lead.company_id, user_id=lead.owner_id):
        raise InvalidInput(
            "The owner is not a member of this company.", errors={"owner": ["Not a member of this company."]}
        )
    errors = _lead_duplicate_errors(lead=lead)
    if errors:
        raise InvalidInput(
            "A lead with this email or phone already exists.", code=CrmError.DUPLICATE_LEAD, errors=errors
        )


def lead_values(*, lead: Lead) -> dict:
    """The lead's fields as they are now (the owner by id): what lead_save_emit compares a write against."""
    return {name: getattr(lead, "owner_id" if name == "owner" else name) for name in LEAD_FIELDS}


def lead_changed_fields(*, lead: Lead, before: dict | None) -> list[str]:
    """The names of the fields that differ from `before`; for a new lead (no `before`), those given a value."""
    after = lead_values(lead=lead)
    if before is None:
        return [name for name, value in after.items() if value not in (None, "", {})]
    return [name for name in LEAD_FIELDS if after[name] != before[name]]


def lead_save_emit(*, lead: Lead, before: dict | None) -> list[str]:
    """Save the (normalized) lead and emit, in the same transaction, lead_created (no `before`) or lead_updated
    with the names of the fields changed since `before` (lead_values) — no event when none changed.

    Every lead write goes through here (the API, admin, lead receivers, imports), so subscribers see them all;
    an IntegrityError of the save reaches the caller, which knows what it means.
    """
    changed = lead_changed_fields(lead=lead, before=before)
    with transaction.atomic():
        lead.save()
        if before is None:
            lead_created.emit(lead=lead, changed=changed)
        elif changed:
            lead_updated.emit(lead=lead, changed=changed)
    return changed


def _lead_save(*, lead: Lead, before: dict | None) -> Lead:
    """Save after the checks; the database constraints still decide when two writes race."""
    lead_validate(lead=lead_normalize(lead=lead))
    try:
        lead_save_emit(lead=lead, before=before)
    except IntegrityError as exc:
        # A concurrent write took the email or phone between our check and the insert.
        text = str(exc)
        field = "phone" if "phone" in text else "email"
        raise InvalidInput(
            "A lead with this email or phone already exists.",
            code=CrmError.DUPLICATE_LEAD,
            errors={field: [_LEAD_DUPLICATE_MESSAGES[field]]},
        ) from exc
    return lead


def lead_create(*, company: Company, **fields) -> Lead:
    """A new lead of the company; an email or phone another alive lead has is a field error."""
    fields = {"custom_fields": {}, **_known_fields(fields, LEAD_FIELDS, "lead_create")}
    return _lead_save(lead=Lead(company=company, **fields), before=None)


def lead_update(*, lead: Lead, **fields) -> Lead:
    """Change a lead's fields; the same dedupe rules as on create."""
    before = lead_values(lead=lead)
    for name, value in _known_fields(fields, LEAD_FIELDS, "lead_update").items():
        setattr(lead, name, value)
    return _lead_save(lead=lead, before=before)


def lead_soft_delete(*, lead: Lead) -> Lead:
    """Hide a lead; its engagements and visitors stay, and its email and phone become free again."""
    if lead.deleted_at is None:
        lead.delete()
    return lead


# --- Visitors ---------------------------------------------------------------------------------------
# Action pages make their visitors through the engine; these are the writes staff make by hand.

VISITOR_FIELDS = ("lead", "first_seen_at", "last_seen_at", "user_agent")


def visitor_validate(*, visitor: Visitor) -> None:
    """Refuse a lead of another company (a database trigger refuses it too; this says why, as a field error)."""
    if visitor.lead is not None and visitor.lead.company_id != visitor.company_id:
        raise InvalidInput(
            "The lead belongs to another company.", errors={"lead": ["This lead belongs to another company."]}
        )


def _visitor_save(*, visitor: Visitor) -> Visitor:
    visitor_validate(visitor=visitor)
    visitor.save()
    return visitor


def visitor_create(*, company: Company, **fields) -> Visitor:
    """A browser identity of the company, linked to one of its leads or to none yet."""
    return _visitor_save(visitor=Visitor(company=company, **_known_fields(fields, VISITOR_FIELDS, "visitor_create")))


def visitor_update(*, visitor: Visitor, **fields) -> Visitor:
    """Change a visitor's lead, the times it was seen or its user agent."""
    for name, value in _known_fields(fields, VISITOR_FIELDS, "visitor_update").items():
        setattr(visitor, name, value)
    return _visitor_save(visitor=visitor)
