"""Dot paths into posted JSON ("contact.emails.0"), as receivers' mappings name fields."""

WHOLE = "$"


def list_index(part: str) -> int | None:
    """A path step as a list index: plain ASCII digits of sane length only ("²" and 5000-digit strings
    count as digits to str.isdigit, and int() refuses them)."""
    if part.isascii() and part.isdigit() and len(part) <= 9:
        return int(part)
    return None


def dot_path_get(payload, path: str):
    """The value at `path` (dict keys, list indexes), None when any step is missing; `$` is the whole payload."""
    if path == WHOLE:
        return payload
    value = payload
    for part in str(path).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and (index := list_index(part)) is not None and index < len(value):
            value = value[index]
        else:
            return None
    return value


def dot_path_leaves(payload, prefix: str = "") -> dict:
    """Every scalar (or empty container) in the payload by its dot path."""
    if isinstance(payload, dict) and payload:
        leaves = {}
        for key, value in payload.items():
            leaves.update(dot_path_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(payload, list) and payload:
        leaves = {}
        for index, value in enumerate(payload):
            leaves.update(dot_path_leaves(value, f"{prefix}.{index}" if prefix else str(index)))
        return leaves
    return {prefix: payload} if prefix else {}
