"""The event catalogue (workflows/event_types.py) as OpenAPI 3.1 `webhooks`: one entry per event type, the
request SalesAssist sends and the answers it expects. The action-engine host publishes them in its schema."""
from drf_spectacular.utils import OpenApiWebhook

from ..event_types import EVENT_TYPES, EventType
from ..kinds.outbound import TOTAL_TIMEOUT, USER_AGENT
from ..payloads import event_sample

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The message id (`msg_…`): the same in every retry and replay of a delivery; "
        "de-duplicate on it.",
        "schema": {"type": "string", "pattern": "^msg_[0-9A-Za-z]+$"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix seconds when this attempt was signed; refuse one far from your clock (5 minutes).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each live secret, space-separated "
        "(two during a secret rotation). Standard Webhooks: docs/webhooks.md shows the check.",
        "schema": {"type": "string"},
    },
    {
        "name": "User-Agent",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "const": USER_AGENT},
    },
]


def _operation(event_type: EventType) -> dict:
    return {
        "operationId": f"webhook_{event_type.name.replace('.', '_')}",
        "summary": event_type.summary,
        "description": event_type.description,
        "tags": ["webhooks"],
        "parameters": SIGNATURE_HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": event_type.body_schema(),
                    "examples": {"sample": {"value": event_sample(event_type=event_type.name)}},
                }
            },
        },
        "responses": {
            "2XX": {"description": "Received: the delivery succeeded."},
            "410": {"description": "Gone for good: the workflow is disabled, the delivery dead."},
            "default": {
                "description": f"Anything else, or no answer within {TOTAL_TIMEOUT:.0f} s: retried on the schedule "
                "(a 429's or 503's Retry-After is honoured), then dead."
            },
        },
    }


_WEBHOOKS = {
    f"webhook_{name.replace('.', '_')}": OpenApiWebhook(name, {"post": _operation(event_type)})
    for name, event_type in EVENT_TYPES.items()
}


def __getattr__(attribute: str) -> OpenApiWebhook:
    try:
        return _WEBHOOKS[attribute]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}") from None


# drf-spectacular's WEBHOOKS setting takes dotted paths: one per event type, each an attribute of this module.
EVENT_WEBHOOKS = [f"{__name__}.{attribute}" for attribute in _WEBHOOKS]
