"""Standard Webhooks signing and verifying, for the webhooks we send and the calls we receive alike.

Secrets are `whsec_<base64 key>`; a message is signed `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` in
the `webhook-signature` header, next to `webhook-id` and `webhook-timestamp`.
"""
import base64
import binascii
import hmac
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from datetime import timezone as dt_timezone

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Keys a secret given to us may have: Standard Webhooks asks for 24 to 64 bytes.
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64


def secret_generate() -> str:
    """A new signing secret: whsec_ and SECRET_BYTES random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_is_valid(secret: str) -> bool:
    """True for whsec_ followed by a key of 24 to 64 bytes in (padded) base64."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (ValueError, binascii.Error):
        return False
    return SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the message with one secret."""
    signed_at = datetime.fromtimestamp(timestamp, tz=dt_timezone.utc)
    return Webhook(secret).sign(message_id, signed_at, body.decode())


def signature_header(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: one signature per live secret, space-separated (rotation overlap)."""
    return " ".join(
        signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_
    )


def signature_verify(*, secret: str, headers: Mapping, body: str, fresh: bool = True) -> bool:
    """True when one of the call's signatures is the secret's. With `fresh` (a live call) it must also have
    been signed within five minutes of now, as Standard Webhooks asks; without, the call is one kept and
    replayed later, and its age does not count."""
    if fresh:
        try:
            Webhook(secret).verify(body, dict(headers), json_parse=False)
        except (WebhookVerificationError, EmptyWebhookSecretError, ValueError, TypeError):
            # standardwebhooks raises a plain ValueError on a malformed header: that is a failed check too.
            return False
        return True
    headers = {str(name).lower(): value for name, value in headers.items()}
    message_id = str(headers.get("webhook-id") or "")
    given = str(headers.get("webhook-signature") or "").split()
    try:
        timestamp = int(headers.get("webhook-timestamp") or "")
        expected = signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body.encode())
    except (EmptyWebhookSecretError, ValueError, OverflowError, OSError):
        return False
    expected_digest = expected.partition(",")[2].encode()
    matches = [item for item in given if hmac.compare_digest(item.partition(",")[2].encode(), expected_digest)]
    return bool(message_id and matches)


def message_id_for(key: uuid.UUID) -> str:
    """The webhook-id of the message a uuid stands for: the same for every retry and replay of it, so
    receivers can de-duplicate."""
    return f"msg_{key.hex}"
