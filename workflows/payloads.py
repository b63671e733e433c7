"""The one event shape every kind sends, for deliveries, replays and test mode alike."""
import uuid

from django.utils import timezone

from action_engine.choices import Stage
from action_engine.models import Action, ActionCompany, ActionSystem, Engagement, Message
from crm.models import Lead

EVENT_TYPE_PREFIX = "engagement."


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def engagement_payload(*, engagement) -> dict:
    """`{"type": "engagement.<stage>", "timestamp", "data": {engagement, lead, company_action, message}}`.

    The timestamp is when the engagement was recorded, so every retry and replay sends the same body.
    """
    lead = engagement.lead
    action_company = engagement.action_company
    action = action_company.action
    owner = lead.owner if lead.owner_id else None
    return {
        "type": f"{EVENT_TYPE_PREFIX}{engagement.stage}",
        "timestamp": _iso(engagement.created_at),
        "data": {
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
            "lead": {
                "uuid": str(lead.uuid),
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "email": lead.email,
                "phone": lead.phone,
                "status": lead.status,
                "source": lead.source,
                "custom_fields": lead.custom_fields,
                "owner": {"email": owner.email, "name": owner.get_full_name()} if owner else None,
            },
            "company_action": {
                "uuid": str(action_company.uuid),
                "name": action_company.name,
                "action": {"uuid": str(action.uuid), "name": action.name, "slug": action.slug},
                "system": action.system.slug,
            },
            "message": engagement.message.body if engagement.message else None,
        },
    }


def engagement_sample(*, company, stage: str | None = None) -> Engagement:
    """An unsaved engagement with made-up lead, action and message, for test mode: never stored."""
    stage = stage or Stage.SUBMITTED
    system = ActionSystem(slug="forms", name="Forms")
    action = Action(uuid=uuid.uuid4(), name="Sample action", slug="sample-action", system=system)
    action_company = ActionCompany(uuid=uuid.uuid4(), company=company, action=action, name="Sample company action")
    lead = Lead(
        uuid=uuid.uuid4(),
        company=company,
        first_name="Sam",
        last_name="Sample",
        email="sam.sample@example.com",
        source="test",
    )
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
