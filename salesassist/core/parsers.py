"""JSON from clients, parsed with a nesting limit: a deeply nested body is bad input (400), never a 500.

Python's json module recurses once per level, so a few thousand `[` raise RecursionError instead of a
ValueError; and a body that parses just under the interpreter's limit still overflows later, in the
recursive code that walks it (NUL checks, JSON Schema validation, the database adapter). No message,
template or config we accept needs anywhere near MAX_JSON_DEPTH levels.
"""

import json
from collections.abc import Mapping

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

MAX_JSON_DEPTH = 64


def _depth_exceeds(value, limit: int) -> bool:
    # Iterative on purpose: the point is not to recurse over client data.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def has_null_character(value) -> bool:
    """Whether a NUL character is in a string of the (depth-checked) value: PostgreSQL cannot store one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_null_character(key) or has_null_character(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_null_character(item) for item in value)
    return False


def json_loads_bounded(text: str | bytes):
    """json.loads for a client's body: ValueError when it is not JSON, nests deeper than MAX_JSON_DEPTH
    or holds a NUL character (\\u0000), which no column can store."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    if has_null_character(value):
        raise ValueError("JSON holds a NUL character (\\u0000), which cannot be stored.")
    return value


def storable_text(text: str) -> str:
    """A raw body as the database can keep it: a NUL byte becomes the escape \\u0000, which shows
    what came and which json_loads_bounded still refuses (a raw NUL is never valid JSON either)."""
    return text.replace("\x00", "\\u0000")


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser with the nesting limit of json_loads_bounded (the default parser of every API)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


class TextBodyParser(BaseParser):
    """A body taken as text (a view reads and stores it raw); a subclass names its media type."""

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read().decode("utf-8", errors="replace")


class CsvParser(TextBodyParser):
    media_type = "text/csv"


class JsonLinesParser(TextBodyParser):
    media_type = "application/x-ndjson"
