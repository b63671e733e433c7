"""Lead receivers: inbound URLs where third parties post leads (optionally signed: the kernel's inbound pipeline
checks the signature before a call is stored), and turning each stored call into a lead."""
import copy
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Q

from salesassist.core.dotpath import dot_path_get, dot_path_leaves
from salesassist.core.exceptions import Conflict, DomainError, InvalidInput, NotFound
from salesassist.core.inbound.services import (
    inbound_call_is_replayable,
    inbound_call_payload,
    inbound_call_process,
    inbound_call_replay,
    inbound_call_store,
    inbound_secret_check,
)
from salesassist.core.webhook_signing import secret_generate

from ..choices import LeadStatus
from ..errors import CrmError
from ..models import Company, Lead, LeadReceiver, LeadReceiverAttempt
from .companies import company_has_member
from .leads import lead_normalize, lead_save_emit, lead_values, normalize_email, normalize_phone

LEAD_RECEIVER_FIELDS = ("name", "template", "default_owner", "source", "is_active")


def lead_receiver_validate(*, receiver: LeadReceiver) -> None:
    """Refuse a template that is not a JSON object, and a default owner from outside the receiver's company."""
    if not isinstance(receiver.template, dict):
        raise InvalidInput("The template must be a JSON object.", errors={"template": ["Must be a JSON object."]})
    if not company_has_member(company_id=receiver.company_id, user_id=receiver.default_owner_id):
        raise InvalidInput(
            "The default owner is not a member of this company.",
            errors={"default_owner": ["Not a member of this company."]},
        )


def _lead_receiver_save(*, receiver: LeadReceiver) -> LeadReceiver:
    lead_receiver_validate(receiver=receiver)
    receiver.save()
    return receiver


def lead_receiver_create(*, company: Company, **fields) -> LeadReceiver:
    """A new inbound URL for third parties to post leads into the company's CRM."""
    fields = {name: value for name, value in fields.items() if name in LEAD_RECEIVER_FIELDS}
    fields.setdefault("template", {})
    return _lead_receiver_save(receiver=LeadReceiver(company=company, **fields))


def lead_receiver_update(*, receiver: LeadReceiver, **fields) -> LeadReceiver:
    """Change a lead receiver's name, mapping, default owner, source or active flag."""
    for name, value in fields.items():
        if name in LEAD_RECEIVER_FIELDS:
            setattr(receiver, name, value)
    return _lead_receiver_save(receiver=receiver)


def lead_receiver_secret_set(*, receiver: LeadReceiver, secret: str = "", generate: bool = False) -> LeadReceiver:
    """Give the receiver a new whsec_ secret (generated, or the caller's own), or none (`secret` empty): from
    now on calls must be signed with it, or need not be. The caller shows a new secret once; it is never shown
    again. Calls kept already are not checked again."""
    if generate and secret:
        raise InvalidInput(
            "Give a secret or ask for one to be generated, not both.",
            errors={"secret": ["Give a secret or generate_secret, not both."]},
        )
    inbound_secret_check(secret=secret)
    receiver.secret = secret_generate() if generate else secret
    receiver.save(update_fields=["secret", "updated_at"])
    return receiver


@transaction.atomic
def lead_receiver_delete(*, receiver: LeadReceiver) -> None:
    """Delete a receiver that never received a call; one with calls keeps them (deactivate it instead)."""
    if receiver.attempts.exists():
        raise Conflict(
            "This receiver has received calls, which are kept; deactivate it (is_active=false) instead.",
            code=CrmError.RECEIVER_IN_USE,
        )
    receiver.delete()


# --- Calls: third parties post leads --------------------------------------------------------------

# Lead fields a receiver's template may map; the rest of a payload goes to custom_fields.
LEAD_RECEIVER_MAPPABLE = ("first_name", "last_name", "email", "phone", "status", "source")
LEAD_RECEIVER_MAX_CUSTOM_FIELDS = 200


@dataclass(frozen=True)
class LeadReceived:
    """What a lead receiver call produced: the lead (new or updated), or the error kept on the attempt."""

    attempt: LeadReceiverAttempt
    lead: Lead | None = None
    duplicate: bool = False
    error: DomainError | None = None


def lead_receiver_attempt_store(
    *, receiver: LeadReceiver, headers: dict, body: str, source_ip: str | None
) -> LeadReceiverAttempt:
    """Keep the raw call, committed on its own, before anything can fail: nothing posted is lost."""
    return inbound_call_store(
        model=LeadReceiverAttempt, receiver=receiver, headers=headers, body=body, source_ip=source_ip
    )


def lead_receiver_payload_map(*, receiver: LeadReceiver, payload) -> tuple[dict, dict, dict]:
    """Lead fields, the template's defaults for the fields the post left empty, and custom fields out of
    a posted JSON object, by the receiver's template.

    template = {"fields": {"<lead field>": "<dot path>"}, "defaults": {"<lead field>": value},
    "custom_fields": {"<name>": "<dot path>"}, "unmapped": "custom_fields" | "ignore"}. Without
    "fields", each lead field is read at its own name. Keys no path used go to custom_fields under
    their dot path, unless "unmapped" is "ignore".
    """
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.", errors={"body": ["Must be a JSON object."]})
    template = receiver.template if isinstance(receiver.template, dict) else {}
    paths = template.get("fields")
    if not isinstance(paths, dict):
        paths = {name: name for name in LEAD_RECEIVER_MAPPABLE}
    defaults = template.get("defaults") if isinstance(template.get("defaults"), dict) else {}
    custom_paths = template.get("custom_fields") if isinstance(template.get("custom_fields"), dict) else {}
    fields, defaulted = {}, {}
    for name in LEAD_RECEIVER_MAPPABLE:
        value = dot_path_get(payload, paths[name]) if name in paths else None
        if value not in (None, ""):
            fields[name] = value
        elif defaults.get(name) not in (None, ""):
            defaulted[name] = defaults[name]
    custom = {name: dot_path_get(payload, path) for name, path in custom_paths.items()}
    custom = {name: value for name, value in custom.items() if value is not None}
    if template.get("unmapped", "custom_fields") != "ignore":
        used = [str(path) for path in [*paths.values(), *custom_paths.values()]]
        for path, value in dot_path_leaves(payload).items():
            # A leaf is used when a mapped path is it or one of its parents.
            if not any(path == used_path or path.startswith(f"{used_path}.") for used_path in used):
                custom.setdefault(path, value)
    if len(custom) > LEAD_RECEIVER_MAX_CUSTOM_FIELDS:
        raise InvalidInput(
            "Too many fields.", errors={"custom_fields": [f"At most {LEAD_RECEIVER_MAX_CUSTOM_FIELDS}."]}
        )
    return fields, defaulted, custom


def _lead_fields_clean(fields: dict) -> dict:
    """Strings of the right length and form, or field errors; an email or a phone is needed to dedupe on."""
    errors: dict[str, list[str]] = {}
    clean = {}
    for name, value in fields.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            errors[name] = ["Must be a string."]
            continue
        value = str(value).strip()
        max_length = Lead._meta.get_field(name).max_length
        if max_length and len(value) > max_length:
            errors[name] = [f"At most {max_length} characters."]
            continue
        clean[name] = value
    if "email" in clean:
        try:
            EmailValidator()(clean["email"])
        except DjangoValidationError:
            errors["email"] = ["Enter a valid email address."]
    if "phone" in clean and not 5 <= len(normalize_phone(clean["phone"]).lstrip("+")) <= 20:
        errors["phone"] = ["Enter a phone number of 5 to 20 digits."]
    if "status" in clean and clean["status"] not in LeadStatus.values:
        errors["status"] = [f"Must be one of: {', '.join(LeadStatus.values)}."]
    if not clean.get("email") and not clean.get("phone") and "email" not in errors and "phone" not in errors:
        errors["email"] = ["A lead needs an email or a phone."]
    if errors:
        raise InvalidInput("The lead is invalid; see errors.", errors=errors)
    return clean


class LeadMatches:
    """Alive leads of one company by normalized email and by normalized phone: whom a lead with this email or
    phone is. Loaded (and locked) at once for many rows by `lead_matches_load`; an import adds the leads it
    makes and changes, so a later row finds them."""

    def __init__(self, leads=()):
        self._by_email: dict[str, Lead] = {}
        self._by_phone: dict[str, Lead] = {}
        for lead in leads:
            self.add(lead)

    def add(self, lead: Lead) -> None:
        if lead.email_normalized:
            self._by_email[lead.email_normalized] = lead
        if lead.phone_normalized:
            self._by_phone[lead.phone_normalized] = lead

    def find(self, *, email: str, phone: str) -> Lead | None:
        """The lead with this email, else with this phone (email wins when they differ)."""
        lead = self._by_email.get(normalize_email(email)) if email else None
        if lead is None and phone:
            lead = self._by_phone.get(normalize_phone(phone))
        return lead


def lead_matches_load(*, company_id: int, emails, phones) -> LeadMatches:
    """The company's alive leads with any of these emails or phones (normalized here), locked: one statement
    however many rows ask."""
    emails = {normalize_email(email) for email in emails if email}
    phones = {normalize_phone(phone) for phone in phones if phone}
    if not emails and not phones:
        return LeadMatches()
    wanted = Q(email_normalized__in=emails) | Q(phone_normalized__in=phones)
    return LeadMatches(Lead.objects.select_for_update().filter(wanted, company_id=company_id).order_by("pk"))


def _lead_match(*, company_id: int, email: str, phone: str) -> Lead | None:
    """The alive lead with this normalized email, else this phone (email wins when they differ)."""
    return lead_matches_load(company_id=company_id, emails=[email], phones=[phone]).find(email=email, phone=phone)


def _lead_merge(
    *, lead: Lead, fields: dict, custom: dict, receiver: LeadReceiver, defaulted: frozenset
) -> tuple[Lead, bool]:
    """The lead with the call's fields merged in, and whether anything changed (an unchanged lead is not saved)."""
    before = lead_values(lead=lead)
    for name, value in fields.items():
        # An existing email or phone is the lead's identity: fill it when empty, never swap it. A
        # template default only fills an empty field: it must not reset what the lead already has.
        if (name in ("email", "phone") or name in defaulted) and getattr(lead, name):
            continue
        setattr(lead, name, value)
    lead.custom_fields = {**(lead.custom_fields or {}), **custom}
    if lead.owner_id is None and receiver.default_owner_id:
        lead.owner_id = receiver.default_owner_id
    if before == lead_values(lead=lead):
        return lead, False
    lead_normalize(lead=lead)
    try:
        lead_save_emit(lead=lead, before=before)
    except IntegrityError as exc:
        # The phone (or email) it would gain belongs to another lead of the company.
        raise Conflict(
            "The lead's email and phone match two different leads.", code=CrmError.DUPLICATE_LEAD_CONFLICT
        ) from exc
    return lead, True


class LeadUpserted(StrEnum):
    """What an upsert did to the lead: made it, changed it, or found it already as the call has it."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def lead_upsert(
    *,
    receiver: LeadReceiver,
    fields: dict,
    custom: dict,
    defaulted: frozenset = frozenset(),
    matches: LeadMatches | None = None,
) -> tuple[Lead, LeadUpserted]:
    """Create the lead, or update the company's lead with the same normalized email or phone (where
    the `defaulted` fields, the template's defaults, only fill empty ones). Many rows at once (an import) pass
    `matches`, loaded for all of them; the lead made or changed is added to it.

    The unique constraints on the normalized columns decide when two calls race: the loser finds
    the winner's lead and updates it.
    """
    email, phone = fields.get("email"), fields.get("phone")

    def merged(existing: Lead) -> tuple[Lead, LeadUpserted]:
        if matches is not None:
            # Merged into a copy: a row that fails after the merge leaves the shared match as the database has it.
            existing = copy.copy(existing)
        lead, changed = _lead_merge(lead=existing, fields=fields, custom=custom, receiver=receiver, defaulted=defaulted)
        return lead, LeadUpserted.UPDATED if changed else LeadUpserted.UNCHANGED

    def upserted() -> tuple[Lead, LeadUpserted]:
        if matches is not None:
            existing = matches.find(email=email, phone=phone)
        else:
            existing = _lead_match(company_id=receiver.company_id, email=email, phone=phone)
        if existing is not None:
            return merged(existing)
        # A source in the post (or the template) wins over the receiver's own.
        lead = Lead(
            company_id=receiver.company_id,
            owner_id=receiver.default_owner_id,
            custom_fields=custom,
            **{"source": receiver.source, **fields},
        )
        lead_normalize(lead=lead)
        try:
            lead_save_emit(lead=lead, before=None)
            return lead, LeadUpserted.CREATED
        except IntegrityError:
            existing = _lead_match(company_id=receiver.company_id, email=email, phone=phone)
            if existing is None:
                raise
            return merged(existing)

    with transaction.atomic():
        lead, outcome = upserted()
    if matches is not None:
        matches.add(lead)
    return lead, outcome


def lead_receive_upsert(
    *, receiver: LeadReceiver, fields: dict, custom: dict, defaulted: frozenset = frozenset()
) -> tuple[Lead, bool]:
    """`lead_upsert`, answering the lead and whether it existed already (a duplicate)."""
    lead, upserted = lead_upsert(receiver=receiver, fields=fields, custom=custom, defaulted=defaulted)
    return lead, upserted != LeadUpserted.CREATED


@dataclass(frozen=True)
class LeadPayloadFields:
    """A posted object mapped by a receiver's template and checked: what `lead_upsert` takes."""

    fields: dict
    custom: dict
    defaulted: frozenset


def lead_payload_fields(*, receiver: LeadReceiver, payload) -> LeadPayloadFields:
    """Map a posted object by the receiver's template and check its fields (InvalidInput otherwise)."""
    fields, defaulted, custom = lead_receiver_payload_map(receiver=receiver, payload=payload)
    return LeadPayloadFields(
        fields=_lead_fields_clean({**defaulted, **fields}), custom=custom, defaulted=frozenset(defaulted)
    )


def _attempt_lead_upsert(*, receiver: LeadReceiver, attempt: LeadReceiverAttempt) -> tuple[Lead, bool]:
    if not (receiver.is_active and receiver.company.is_active):
        # Only a replay meets an inactive one (a live call to it is a 404): kept failed until it is active again.
        raise NotFound("The lead receiver or its company is not active.")
    payload = inbound_call_payload(call=attempt)
    fields, defaulted, custom = lead_receiver_payload_map(receiver=receiver, payload=payload)
    return lead_receive_upsert(
        receiver=receiver,
        fields=_lead_fields_clean({**defaulted, **fields}),
        custom=custom,
        defaulted=frozenset(defaulted),
    )


def lead_receive(*, receiver: LeadReceiver, attempt: LeadReceiverAttempt) -> LeadReceived:
    """Turn a stored attempt into a lead and record its outcome; errors are kept on the attempt."""
    upserted, error = inbound_call_process(
        call=attempt,
        make=lambda: _attempt_lead_upsert(receiver=receiver, attempt=attempt),
        made_fields=lambda upserted: {"lead": upserted[0]},
    )
    lead, duplicate = upserted or (None, False)
    return LeadReceived(attempt=attempt, lead=lead, duplicate=duplicate, error=error)


def lead_receiver_attempt_is_replayable(*, attempt: LeadReceiverAttempt) -> bool:
    """Failed, or still "received" long after it arrived (its processing was cut off); never one rejected
    for its signature."""
    return inbound_call_is_replayable(call=attempt)


def lead_receiver_attempt_replay(*, attempt: LeadReceiverAttempt) -> LeadReceived:
    """Process a failed (or interrupted) attempt again and record its new outcome.

    A lead the attempt made before a crash cut it off is found again by the dedupe on email and phone:
    the replay updates it (`duplicate`), it never makes a second one.
    """
    return inbound_call_replay(
        call=attempt,
        locked=LeadReceiverAttempt.objects.select_for_update(of=("self",)).select_related("receiver__company"),
        is_replayable=lambda locked: lead_receiver_attempt_is_replayable(attempt=locked),
        process=lambda locked: lead_receive(receiver=locked.receiver, attempt=locked),
        noun="attempt",
        conflict_code=CrmError.LEAD_RECEIVER_ATTEMPT_NOT_REPLAYABLE,
    )
