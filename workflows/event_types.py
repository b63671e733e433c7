"""The event catalogue: every event type a workflow sends, with the JSON Schema of its body. The one place.

Every body is `{"type": <event type>, "timestamp": <when it happened>, "data": {...}}`. The payload builders
(workflows/payloads.py) name their types from here, the action-engine host's OpenAPI schema publishes each
type as a `webhooks` entry (workflows/api/webhooks.py), and tests validate what a real worker sends against
that published schema. docs/webhooks.md describes them for receivers.
"""
from dataclasses import dataclass

from action_engine.choices import Stage
from crm.choices import LeadStatus
from crm.services.leads import LEAD_EVENT_FIELDS

from .choices import DeliveryStatus, WorkflowEvent

ENGAGEMENT_PREFIX = "engagement."
LEAD_CREATED = WorkflowEvent.LEAD_CREATED.value
LEAD_UPDATED = WorkflowEvent.LEAD_UPDATED.value
LEAD_ERASED = WorkflowEvent.LEAD_ERASED.value
DELIVERY_DEAD = WorkflowEvent.DELIVERY_DEAD.value

_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}


def _object(properties: dict, *, description: str = "", nullable: bool = False) -> dict:
    """A closed JSON object: every property is always present (null where it has no value)."""
    schema = {
        "type": ["object", "null"] if nullable else "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


LEAD_SCHEMA = _object(
    {
        "uuid": _UUID,
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "email": {"type": "string", "description": "As entered; empty when unknown."},
        "phone": {"type": "string", "description": "As entered; empty when unknown."},
        "status": {"enum": LeadStatus.values},
        "source": {"type": "string"},
        "custom_fields": {"type": "object", "description": "The company's own fields, as stored."},
        "unsubscribed_at": _nullable(
            {**_TIME, "description": "When the lead unsubscribed from our emails (their link), or null."}
        ),
        "owner": _object(
            {"email": {"type": "string"}, "name": {"type": "string"}},
            description="The staff member who owns the lead, or null.",
            nullable=True,
        ),
    },
    description="The lead as it was when the event happened.",
)

ENGAGEMENT_DATA_SCHEMA = _object(
    {
        "engagement": _object(
            {
                "uuid": _UUID,
                "stage": {"enum": Stage.values},
                "previous_stage": {"enum": [*Stage.values, None], "description": "The lead's stage before, or null."},
                "visitor": _nullable(_UUID),
                "created_at": _TIME,
                "meta": {
                    "type": "object",
                    "description": "How the stage came about: the request's attribution (utm_source, utm_medium, "
                    "utm_campaign, utm_term, utm_content, referrer, landing_url) and, for a shared link, its "
                    "channel and email_message_id.",
                },
                "first_touch": {
                    "type": "object",
                    "description": "The visitor's first attribution, under the same keys ({} when none).",
                },
            }
        ),
        "lead": LEAD_SCHEMA,
        "company_action": _object(
            {
                "uuid": _UUID,
                "name": {"type": "string"},
                "action": _object({"uuid": _UUID, "name": {"type": "string"}, "slug": {"type": "string"}}),
                "system": {"type": "string", "description": "The action system: forms, content or commerce."},
            }
        ),
        "message": {
            "type": ["object", "null"],
            "description": "The result the page posted (a form's answers, a cart…), or null.",
        },
    }
)

LEAD_CHANGED_DATA_SCHEMA = _object(
    {
        "lead": LEAD_SCHEMA,
        "changed": {
            "type": "array",
            "items": {"enum": list(LEAD_EVENT_FIELDS)},
            "uniqueItems": True,
            "description": "The names of the fields set (on create: every field given a value), never their values.",
        },
    }
)

LEAD_ERASED_DATA_SCHEMA = _object(
    {
        "lead": _object({"uuid": _UUID}, description="Only the lead's uuid: its personal data is gone."),
        "erased_at": _TIME,
    }
)

DELIVERY_DEAD_DATA_SCHEMA = _object(
    {
        "delivery": _object(
            {
                "uuid": _UUID,
                "event_type": {"type": "string", "description": "The type of the event that could not be delivered."},
                "status": {"const": DeliveryStatus.DEAD.value},
                "attempts": {"type": "integer", "minimum": 1},
                "last_status_code": {"type": ["integer", "null"], "description": "The target's last answer, or null."},
                "last_error": {"type": "string"},
                "created_at": _TIME,
            }
        ),
        "workflow": _object({"uuid": _UUID, "name": {"type": "string"}}, description="The workflow that failed."),
        "engagement": _nullable({**_UUID, "description": "The engagement it carried, or null."}),
        "lead": _nullable({**_UUID, "description": "The lead it was about, or null."}),
    }
)


@dataclass(frozen=True)
class EventType:
    """One event type: its name (the body's `type`), what it means, and the JSON Schema of its `data`."""

    name: str
    summary: str
    description: str
    data_schema: dict

    def body_schema(self) -> dict:
        """The JSON Schema of the whole body, as a receiver gets it."""
        return _object(
            {
                "type": {"const": self.name},
                "timestamp": {**_TIME, "description": "When it happened; the same in every retry and replay."},
                "data": self.data_schema,
            },
            description=self.summary,
        )


def engagement_event_type(stage: str) -> str:
    return f"{ENGAGEMENT_PREFIX}{stage}"


EVENT_TYPES: dict[str, EventType] = {
    **{
        engagement_event_type(stage): EventType(
            engagement_event_type(stage),
            f"A lead reached the stage {stage} on a company action",
            f"Sent to the workflows linked to the company action (the action's defaults, then the company "
            f"action's own) that subscribe to `engagement.*` and whose `stages` and `conditions` let "
            f"`{stage}` through.",
            ENGAGEMENT_DATA_SCHEMA,
        )
        for stage in Stage.values
    },
    LEAD_CREATED: EventType(
        LEAD_CREATED,
        "A lead was created",
        "Through the CRM API, admin, a lead receiver or an import. Sent to the company's workflows that "
        "subscribe to `lead.created`; the body is the lead as it was created.",
        LEAD_CHANGED_DATA_SCHEMA,
    ),
    LEAD_UPDATED: EventType(
        LEAD_UPDATED,
        "A lead was changed",
        "Only when a field's value changed; `changed` names those fields (`unsubscribed_at` when the lead "
        "followed the unsubscribe link of our email). Sent to the company's workflows that subscribe to "
        "`lead.updated`; the body is the lead as it was after the change.",
        LEAD_CHANGED_DATA_SCHEMA,
    ),
    LEAD_ERASED: EventType(
        LEAD_ERASED,
        "A lead's personal data was erased",
        "Carries no personal data: the lead's uuid and when. Erase what you keep about that lead too.",
        LEAD_ERASED_DATA_SCHEMA,
    ),
    DELIVERY_DEAD: EventType(
        DELIVERY_DEAD,
        "A delivery died",
        "A delivery of another workflow of the company used up its retries (or its target answered 410). "
        "Never sent to the workflow whose delivery died, and a `delivery.dead` delivery that dies sends none.",
        DELIVERY_DEAD_DATA_SCHEMA,
    ),
}


def event_type_get(name: str) -> EventType:
    """The catalogue entry of a type; KeyError for one the catalogue does not list."""
    return EVENT_TYPES[name]
