"""Write operations of the CRM domain."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import ApiKeyAccess, MembershipRole
from salesassist.core.exceptions import Conflict, InvalidInput

from .models import ApiKey, Company, CompanyMembership, Lead, LeadReceiver, normalize_email, normalize_phone

API_KEY_PREFIX = "sa"
# last_used_at is written at most this often per key, so reads don't each cost a write.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def api_key_hash(token: str) -> str:
    # Keys are 256 random bits, so a plain SHA-256 is enough; no slow KDF needed.
    return hashlib.sha256(token.encode()).hexdigest()


def api_key_create(
    *, company: Company, name: str, access: str = ApiKeyAccess.READ_WRITE, created_by=None
) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the key itself, which is never stored and shown only now."""
    prefix = secrets.token_hex(4)
    token = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        company=company,
        name=name,
        prefix=prefix,
        hashed_key=api_key_hash(token),
        access=access,
        created_by=created_by,
    )
    return api_key, token


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The active key matching `token`, or None. Compares hashes in constant time."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != API_KEY_PREFIX:
        return None
    api_key = ApiKey.objects.select_related("company").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.hashed_key, api_key_hash(token)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key


@transaction.atomic
def company_membership_add(*, company: Company, user, role: str = MembershipRole.MEMBER) -> CompanyMembership:
    membership, _ = CompanyMembership.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return membership


# --- Leads ------------------------------------------------------------------------------------------

LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "owner", "status", "source", "custom_fields")
_LEAD_DUPLICATE_MESSAGES = {
    "email": "Another lead of this company has this email address.",
    "phone": "Another lead of this company has this phone number.",
}


def _lead_duplicate_errors(*, lead: Lead) -> dict[str, list[str]]:
    """Field errors for the alive leads of the company that share the lead's normalized email or phone."""
    others = Lead.objects.filter(company_id=lead.company_id).exclude(pk=lead.pk)
    errors = {}
    email, phone = normalize_email(lead.email), normalize_phone(lead.phone)
    if email and others.filter(email_normalized=email).exists():
        errors["email"] = [_LEAD_DUPLICATE_MESSAGES["email"]]
    if phone and others.filter(phone_normalized=phone).exists():
        errors["phone"] = [_LEAD_DUPLICATE_MESSAGES["phone"]]
    return errors


def _lead_check_owner(*, lead: Lead) -> None:
    if lead.owner_id and not CompanyMembership.objects.filter(company_id=lead.company_id, user_id=lead.owner_id).exists():
        raise InvalidInput("The owner is not a member of this company.", errors={"owner": ["Not a member of this company."]})


def _lead_save(*, lead: Lead) -> Lead:
    """Save after the dedupe check; the database constraints still decide when two writes race."""
    _lead_check_owner(lead=lead)
    errors = _lead_duplicate_errors(lead=lead)
    if errors:
        raise InvalidInput("A lead with this email or phone already exists.", code="duplicate_lead", errors=errors)
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError as exc:
        # A concurrent write took the email or phone between our check and the insert.
        text = str(exc)
        field = "phone" if "phone" in text else "email"
        raise InvalidInput(
            "A lead with this email or phone already exists.",
            code="duplicate_lead",
            errors={field: [_LEAD_DUPLICATE_MESSAGES[field]]},
        ) from exc
    return lead


def lead_create(*, company: Company, **fields) -> Lead:
    """A new lead of the company; an email or phone another alive lead has is a field error."""
    unknown = set(fields) - set(LEAD_FIELDS)
    if unknown:
        raise TypeError(f"lead_create() got unexpected fields {sorted(unknown)}")
    fields.setdefault("custom_fields", {})
    return _lead_save(lead=Lead(company=company, **fields))


def lead_update(*, lead: Lead, **fields) -> Lead:
    """Change a lead's fields; the same dedupe rules as on create."""
    unknown = set(fields) - set(LEAD_FIELDS)
    if unknown:
        raise TypeError(f"lead_update() got unexpected fields {sorted(unknown)}")
    for name, value in fields.items():
        setattr(lead, name, value)
    return _lead_save(lead=lead)


def lead_soft_delete(*, lead: Lead) -> Lead:
    """Hide a lead; its engagements and visitors stay, and its email and phone become free again."""
    if lead.deleted_at is None:
        lead.delete()
    return lead


# --- Lead receivers ---------------------------------------------------------------------------------

LEAD_RECEIVER_FIELDS = ("name", "template", "default_owner", "source", "is_active")


def _lead_receiver_save(*, receiver: LeadReceiver) -> LeadReceiver:
    if not isinstance(receiver.template, dict):
        raise InvalidInput("The template must be a JSON object.", errors={"template": ["Must be a JSON object."]})
    owner_id = receiver.default_owner_id
    if owner_id and not CompanyMembership.objects.filter(company_id=receiver.company_id, user_id=owner_id).exists():
        raise InvalidInput(
            "The default owner is not a member of this company.",
            errors={"default_owner": ["Not a member of this company."]},
        )
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


@transaction.atomic
def lead_receiver_delete(*, receiver: LeadReceiver) -> None:
    """Delete a receiver that never received a call; one with calls keeps them (deactivate it instead)."""
    if receiver.attempts.exists():
        raise Conflict(
            "This receiver has received calls, which are kept; deactivate it (is_active=false) instead.",
            code="receiver_in_use",
        )
    receiver.delete()
