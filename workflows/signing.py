"""Standard Webhooks signatures: `whsec_` secrets, `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
import base64
import hashlib
import hmac
import secrets
import uuid

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


def secret_generate() -> str:
    """A new signing secret: 32 random bytes, base64, with the whsec_ prefix (as Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the message with one secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: one signature per live secret, space-separated (rotation overlap)."""
    return " ".join(
        signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_
    )


def message_id_for(delivery_uuid: uuid.UUID) -> str:
    """The webhook-id of a delivery: the same for every retry and replay, so receivers can de-duplicate."""
    return f"msg_{delivery_uuid.hex}"
