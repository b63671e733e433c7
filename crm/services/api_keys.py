"""API keys: made for a company, shown once, authenticated by their hash, revoked."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone

from ..choices import ApiKeyAccess
from ..models import ApiKey, Company

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


def api_key_update(*, api_key: ApiKey, name: str, access: str) -> ApiKey:
    """Rename a key or change what it may do; its secret, company and use stay as they are."""
    api_key.name, api_key.access = name, access
    api_key.save(update_fields=["name", "access", "updated_at"])
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key
