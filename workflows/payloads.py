"""The bodies every kind sends (the catalogue's shapes: workflows/event_types.py), for deliveries, replays and
test mode alike."""
import uuid

from django.utils import timezone

from action_engine.choices import Stage
from action_engine.models import Action, ActionCompany, ActionSystem, Engagement, Message
from crm.models import Lead

from .choices import DeliveryStatus
from .event_types import (
    DELIVERY_DEAD,
    ENGAGEMENT_PREFIX,
    LEAD_CREATED,
    LEAD_ERASED,
    LEAD_UPDATED,
    engagement_event_type,
    event_type_get,
)
from .models import Delivery, Workflow


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _event(name: str, *, timestamp, data: dict) -> dict:
    return {"type": event_type_get(name).name, "timestamp": _iso(timestamp), "data": data}


def lead_data(lead) -> dict:
    """The lead as every event body shows it (`data.lead`)."""
    owner = lead.owner if lead.owner_id else None
    return {
        "uuid": str(lead.uuid),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "status": lead.status,
        "source": lead.source,
        "custom_fields": lead.custom_fields,
        "unsubscribed_at": _iso(lead.unsubscribed_at),
        "owner": {"email": owner.email, "name": owner.get_full_name()} if owner else None,
    }


def engagement_payload(*, engagement) -> dict:
    """`{"type": "engagement.<stage>", "timestamp", "data": {engagement, lead, company_action, message}}`.

    The timestamp is when the engagement was recorded, so every retry and replay sends the same body.
    """
    action_company = engagement.action_company
    action = action_company.action
    return _event(
        engagement_event_type(engagement.stage),
        timestamp=engagement.created_at,
        data={
            "engagement": {
                "uuid": str(engagement.uuid),
                "stage": engagement.stage,
                "previous_stage": engagement.previous_stage or None,
                "visitor": str(engagement.visitor.uuid) if engagement.visitor_id else None,
                "created_at": _iso(engagement.created_at),
                # This request's attribution (utm_*, referrer, landing_url) and the visitor's first one.
                "meta": engagement.meta,
                "first_touch": engagement.visitor.first_touch if engagement.visitor_id else {},
            },
            "lead": lead_data(engagement.lead),
            "company_action": {
                "uuid": str(action_company.uuid),
                "name": action_company.name,
                "action": {"uuid": str(action.uuid), "name": action.name, "slug": action.slug},
                "system": action.system.slug,
            },
            "message": engagement.message.body if engagement.message else None,
        },
    )


def lead_payload(*, event_type: str, lead, changed: list[str]) -> dict:
    """`lead.created` / `lead.updated`: the lead as it is now (the snapshot a delivery keeps) and the names
    of the fields set. The timestamp is the lead's write."""
    return _event(event_type, timestamp=lead.updated_at, data={"lead": lead_data(lead), "changed": list(changed)})


def lead_erased_payload(*, lead, erased_at) -> dict:
    """`lead.erased`: the lead's uuid and when, no personal data."""
    data = {"lead": {"uuid": str(lead.uuid)}, "erased_at": _iso(erased_at)}
    return _event(LEAD_ERASED, timestamp=erased_at, data=data)


def delivery_dead_payload(*, delivery, died_at) -> dict:
    """`delivery.dead`: which delivery of which workflow died, and its last error; uuids only, no personal data."""
    workflow = delivery.workflow
    return _event(
        DELIVERY_DEAD,
        timestamp=died_at,
        data={
            "delivery": {
                "uuid": str(delivery.uuid),
                "event_type": delivery.event_type,
                "status": DeliveryStatus.DEAD,
                "attempts": delivery.attempts,
                "last_status_code": delivery.last_status_code,
                "last_error": delivery.last_error,
                "created_at": _iso(delivery.created_at),
            },
            "workflow": {"uuid": str(workflow.uuid), "name": workflow.name},
            "engagement": str(delivery.engagement.uuid) if delivery.engagement_id else None,
            "lead": str(delivery.lead.uuid) if delivery.lead_id else None,
        },
    )


def _lead_sample(*, company) -> Lead:
    return Lead(
        uuid=uuid.uuid4(),
        company=company,
        first_name="Sam",
        last_name="Sample",
        email="sam.sample@example.com",
        source="test",
        updated_at=timezone.now(),
    )


def event_sample(*, event_type: str, company=None) -> dict:
    """The body of an event of this type about made-up rows, for test mode and the schema's examples."""
    if event_type.startswith(ENGAGEMENT_PREFIX):
        stage = event_type.removeprefix(ENGAGEMENT_PREFIX)
        return engagement_payload(engagement=engagement_sample(company=company, stage=stage))
    lead = _lead_sample(company=company)
    if event_type in (LEAD_CREATED, LEAD_UPDATED):
        changed = ["first_name", "last_name", "email", "source"] if event_type == LEAD_CREATED else ["email"]
        return lead_payload(event_type=event_type, lead=lead, changed=changed)
    if event_type == LEAD_ERASED:
        return lead_erased_payload(lead=lead, erased_at=timezone.now())
    now = timezone.now()
    delivery = Delivery(
        uuid=uuid.uuid4(),
        workflow=Workflow(uuid=uuid.uuid4(), name="Sample CRM sync"),
        event_type=LEAD_CREATED,
        lead=lead,
        attempts=9,
        last_status_code=503,
        last_error="http_status: The target answered 503.",
        created_at=now,
    )
    return delivery_dead_payload(delivery=delivery, died_at=now)


def engagement_sample(*, company, stage: str | None = None) -> Engagement:
    """An unsaved engagement with made-up lead, action and message, for test mode: never stored."""
    stage = stage or Stage.SUBMITTED
    system = ActionSystem(slug="forms", name="Forms")
    action = Action(uuid=uuid.uuid4(), name="Sample action", slug="sample-action", system=system)
    action_company = ActionCompany(uuid=uuid.uuid4(), company=company, action=action, name="Sample company action")
    lead = _lead_sample(company=company)
    message = Message(uuid=uuid.uuid4(), company=company, body={"data": {"email": "sam.sample@example.com"}})
    return Engagement(
        uuid=uuid.uuid4(),
        company=company,
        action_company=action_company,
        lead=lead,
        stage=stage,
        previous_stage=Stage.OPENED if stage != Stage.SENT else "",
        message=message,
        created_at=timezone.now(),
    )
