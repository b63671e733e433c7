"""The action engine's part of a lead's data (crm/lead_data.py): its action states, its engagements with
their messages, and the receiver calls that carried it. Registered in ActionEngineConfig.ready()."""
from django.db.models import Q
from django.utils import timezone

from crm.lead_data import EXPORT_CHUNK_SIZE, LeadDataSection, LeadIdentity
from crm.models import Lead
from crm.services.lead_lifecycle import lead_identity, text_mentions
from salesassist.core.inbound.services import inbound_call_document, inbound_calls_erase

from ..models import Engagement, LeadActionState, Message, ReceiverCall

# What an engagement's meta may say about the person rather than the campaign: the pages they came from
# (a landing URL's query often carries an email). Attribution by utm_* and the channel stay for the funnel.
ENGAGEMENT_META_PERSONAL_KEYS = ("referrer", "landing_url")


def _action_states_export(*, lead: Lead):
    states = LeadActionState.objects.filter(lead=lead).select_related("action_company").order_by("id")
    for state in states.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "action": state.action_company.uuid,
            "stage": state.stage,
            "sent_at": state.sent_at,
            "opened_at": state.opened_at,
            "submitted_at": state.submitted_at,
            "downloaded_at": state.downloaded_at,
            "purchased_at": state.purchased_at,
            "first_engaged_at": state.first_engaged_at,
            "last_engaged_at": state.last_engaged_at,
            "engagement_count": state.engagement_count,
            "utm_source": state.utm_source,
        }


def _action_states_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    # Stages and times only: the funnel's skeleton, kept whole.
    return {}


def _engagements_export(*, lead: Lead):
    engagements = (
        Engagement.objects.filter(lead=lead)
        .select_related("action_company", "visitor", "receiver", "message")
        .order_by("created_at", "id")
    )
    for engagement in engagements.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "uuid": engagement.uuid,
            "action": engagement.action_company.uuid,
            "visitor": engagement.visitor.uuid if engagement.visitor_id else None,
            "receiver": engagement.receiver.uuid if engagement.receiver_id else None,
            "stage": engagement.stage,
            "previous_stage": engagement.previous_stage,
            "meta": engagement.meta,
            "message": engagement.message.body if engagement.message_id else None,
            "idempotency_key": engagement.idempotency_key,
            "created_at": engagement.created_at,
        }


def _engagements_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    engagements = Engagement.objects.filter(lead=lead)
    now = timezone.now()
    messages = Message.objects.filter(pk__in=engagements.exclude(message=None).values("message_id"))
    changed_messages = messages.update(body={}, updated_at=now)
    changed_engagements = 0
    for engagement in engagements.only("pk", "meta").iterator(chunk_size=EXPORT_CHUNK_SIZE):
        meta = engagement.meta if isinstance(engagement.meta, dict) else {}
        kept = {key: value for key, value in meta.items() if key not in ENGAGEMENT_META_PERSONAL_KEYS}
        # The request's fingerprint is a hash of what was posted: with the email guessed, it confirms it.
        changed_engagements += Engagement.objects.filter(pk=engagement.pk).update(
            meta=kept, request_fingerprint="", updated_at=now
        )
    return {Message._meta.label: changed_messages, Engagement._meta.label: changed_engagements}


def _receiver_calls(*, lead: Lead, identity: LeadIdentity):
    """The calls that made the lead's engagements, and those of its company that failed before they made
    one but named it (its uuid, name, email or phone)."""
    unmade = Q(company_id=lead.company_id, engagement__isnull=True)
    naming_it = Q(body__contains=str(lead.uuid)) | text_mentions(identity, "body")
    return ReceiverCall.objects.filter(Q(engagement__lead=lead) | (unmade & naming_it))


def _receiver_calls_export(*, lead: Lead):
    calls = _receiver_calls(lead=lead, identity=lead_identity(lead)).select_related("receiver", "engagement")
    for call in calls.order_by("id").iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {**inbound_call_document(call=call), "engagement": call.engagement.uuid if call.engagement_id else None}


def _receiver_calls_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    return {ReceiverCall._meta.label: inbound_calls_erase(calls=_receiver_calls(lead=lead, identity=identity))}


ACTION_ENGINE_LEAD_DATA_SECTIONS = (
    LeadDataSection(name="action_states", export=_action_states_export, erase=_action_states_erase),
    LeadDataSection(name="engagements", export=_engagements_export, erase=_engagements_erase),
    LeadDataSection(name="receiver_calls", export=_receiver_calls_export, erase=_receiver_calls_erase),
)
