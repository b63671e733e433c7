"""Standard Webhooks signing and verifying, for the webhooks we send and the calls we receive alike.

Secrets are `whsec_<base64 key>`; a message is signed `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` in
the `webhook-signature` header, next to `webhook-id` and `webhook-timestamp`.
"""
import base64
import binascii
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from datetime import timezone as dt_timezone
from enum import StrEnum

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


class SignatureFailure(StrEnum):
    """Why a call failed its signature check."""

    MISSING = "missing"  # no webhook-id, webhook-timestamp or webhook-signature header
    MALFORMED = "malformed"  # a timestamp that is not a number, a signature that is not `v1,<base64>`
    STALE = "stale"  # signed more than the tolerance before (or after) now
    INVALID = "invalid"  # no signature is the secret's


# Standard Webhooks' tolerance between the signing time and now, either way (what the stock verifier allows).
SIGNATURE_TOLERANCE_SECONDS = 5 * 60


def signature_failure(*, secret: str, headers: Mapping, body: str) -> SignatureFailure | None:
    """None when one of the live call's signatures is the secret's and it was signed within the tolerance of
    now, as Standard Webhooks asks (the stock verifier decides); else why not."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    if not all(lowered.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        return SignatureFailure.MISSING
    try:
        signed_at = int(lowered["webhook-timestamp"])
    except ValueError:
        return SignatureFailure.MALFORMED
    if abs(time.time() - signed_at) > SIGNATURE_TOLERANCE_SECONDS:
        return SignatureFailure.STALE
    try:
        Webhook(secret).verify(body, lowered, json_parse=False)
    except (WebhookVerificationError, EmptyWebhookSecretError):
        return SignatureFailure.INVALID
    except (ValueError, TypeError, binascii.Error):
        # standardwebhooks raises a plain ValueError on a signature without its "v1," (or not base64).
        return SignatureFailure.MALFORMED
    return None


def message_id_for(key: uuid.UUID) -> str:
    """The webhook-id of the message a uuid stands for: the same for every retry and replay of it, so
    receivers can de-duplicate."""
    return f"msg_{key.hex}"
