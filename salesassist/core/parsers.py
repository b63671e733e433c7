"""JSON from clients, parsed with a nesting limit: a deeply nested body is bad input (400), never a 500.

Python's json module recurses once per level, so a few thousand `[` raise RecursionError instead of a
ValueError; and a body that parses just under the interpreter's limit still overflows later, in the
recursive code that walks it (NUL checks, JSON Schema validation, the database adapter). No message,
template or config we accept needs anywhere near MAX_JSON_DEPTH levels.
"""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

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


def json_loads_bounded(text: str | bytes):
    """json.loads for a client's body: ValueError when it is not JSON or nests deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


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
