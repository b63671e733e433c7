"""The one spelling of a uuid the APIs accept: a string of 8-4-4-4-12 hex digits (either case).

Python's uuid.UUID also takes 32 hex digits, braces, "urn:uuid:" and, through int=, numbers; DRF's
UUIDField takes most of them (and `"lead": 1` became UUID(int=1)). Accepting one spelling only means one
uuid has one spelling everywhere: in rate-limit keys, logs, idempotency checks and token comparisons.
"""
import re
import uuid

CANONICAL_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_CANONICAL_UUID = re.compile(CANONICAL_UUID_PATTERN)
CANONICAL_UUID_MESSAGE = "Must be a uuid as a string of 8-4-4-4-12 hex digits."


def canonical_uuid(value) -> uuid.UUID | None:
    """The uuid `value` spells in canonical form; None for anything else (numbers, braces, urn:, no hyphens)."""
    # fullmatch on a str: "$" alone would also let a trailing newline through.
    if not isinstance(value, str) or not _CANONICAL_UUID.fullmatch(value):
        return None
    return uuid.UUID(value)
