"""A lead's data over its life: exported whole, or erased everywhere it is stored (crm/lead_data.py says where)."""
import json
from collections.abc import Iterator

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from salesassist.core.inbound.services import inbound_call_document, inbound_calls_erase

from ..events import lead_erased
from ..lead_data import EXPORT_CHUNK_SIZE, LeadDataSection, LeadIdentity, lead_data_sections
from ..models import ApiKey, Lead, LeadErasure, LeadImport, LeadReceiverAttempt, Visitor

ERASED_TEXT = "[erased]"
# The personal fields of a lead, blanked by the erasure ("" for text, {} for custom fields).
LEAD_PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "email_normalized", "phone_normalized")


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def lead_export_document(lead: Lead) -> dict:
    """The lead row as the export shows it."""
    return {
        "uuid": lead.uuid,
        "company": lead.company.uuid,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "owner": lead.owner.get_username() if lead.owner_id else None,
        "status": lead.status,
        "source": lead.source,
        "custom_fields": lead.custom_fields,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "deleted_at": lead.deleted_at,
    }


def lead_export_chunks(*, lead: Lead) -> Iterator[str]:
    """One JSON document with everything held about the lead, as pieces of text: the lead, its erasure (if
    any), then one array per registered section, each item written as soon as it is read, so memory stays
    flat however much the lead has."""
    erasure = LeadErasure.objects.filter(lead=lead).first()
    yield '{"lead": ' + _json(lead_export_document(lead))
    yield ', "erasure": ' + _json(lead_erasure_document(erasure) if erasure else None)
    for section in lead_data_sections.exported():
        yield f", {_json(section.name)}: ["
        for index, item in enumerate(section.export(lead=lead)):
            yield ("" if index == 0 else ", ") + _json(item)
        yield "]"
    yield "}\n"


def lead_identity(lead: Lead) -> LeadIdentity:
    return LeadIdentity(first_name=lead.first_name, last_name=lead.last_name, email=lead.email, phone=lead.phone)


def lead_erasure_document(erasure: LeadErasure) -> dict:
    return {
        "uuid": erasure.uuid,
        "lead": erasure.lead_uuid,
        "erased_at": erasure.erased_at,
        "erased_counts": erasure.erased_counts,
    }


def lead_erase(
    *, lead: Lead, erased_by_user=None, erased_by_api_key: ApiKey | None = None
) -> tuple[LeadErasure, bool]:
    """Remove the lead's personal data from every table that holds it, in one transaction, and keep an audit
    row of who asked and how many rows of each table changed. Anonymous skeletons stay (the lead's uuid,
    company and status, its engagements' stages and times, its action states) so funnels stay true; the
    lead is soft-deleted, so it can no longer be engaged. Answers (erasure, True), or the first erasure and
    False when the lead was erased already: a second call changes nothing and hides nothing."""
    with transaction.atomic():
        locked = Lead.all_objects.select_for_update().select_related("company").get(pk=lead.pk)
        previous = LeadErasure.objects.filter(lead=locked).first()
        if previous is not None:
            return previous, False
        identity = lead_identity(locked)
        counts: dict[str, int] = {}
        for section in lead_data_sections.sections:
            for label, changed in section.erase(lead=locked, identity=identity).items():
                counts[label] = counts.get(label, 0) + changed
        erased_at = timezone.now()
        lead_personal_data_blank(locked)
        locked.deleted_at = locked.deleted_at or erased_at
        locked.save(update_fields=[*LEAD_PERSONAL_FIELDS, "custom_fields", "deleted_at", "updated_at"])
        counts[Lead._meta.label] = 1
        erasure = LeadErasure.objects.create(
            company_id=locked.company_id,
            lead=locked,
            lead_uuid=locked.uuid,
            erased_at=erased_at,
            erased_by_user=erased_by_user if getattr(erased_by_user, "pk", None) else None,
            erased_by_api_key=erased_by_api_key,
            erased_counts=counts,
        )
        lead_erased.emit(lead=locked, erased_at=erased_at)
    return erasure, True


def lead_personal_data_blank(lead: Lead) -> Lead:
    """Blank the lead's personal fields in memory, as its erasure saves them; answers the same lead. Sections
    that keep a copy of the lead (the workflows' event snapshots) rewrite it from a blanked copy."""
    for name in LEAD_PERSONAL_FIELDS:
        setattr(lead, name, "")
    lead.custom_fields = {}
    return lead


def text_mentions(identity: LeadIdentity, *fields: str) -> Q:
    """Rows where any of `fields` contains a value that names the lead (never matches when it has none)."""
    query = Q(pk__in=[])
    for value in identity.searchable:
        for field in fields:
            query |= Q(**{f"{field}__contains": value})
    return query


# --- crm's own sections -----------------------------------------------------------------------------


def _visitors_export(*, lead: Lead):
    for visitor in Visitor.objects.filter(lead=lead).order_by("id").iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "uuid": visitor.uuid,
            "first_seen_at": visitor.first_seen_at,
            "last_seen_at": visitor.last_seen_at,
            "user_agent": visitor.user_agent,
            "first_touch": visitor.first_touch,
            "created_at": visitor.created_at,
        }


def _visitors_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    changed = Visitor.objects.filter(lead=lead).update(user_agent="", first_touch={}, updated_at=timezone.now())
    return {Visitor._meta.label: changed}


def _lead_receiver_attempts(*, lead: Lead, identity: LeadIdentity):
    """The lead's calls: those that made or updated it, and those of its company that failed before they
    did but carried its name, email or phone."""
    failed_naming_it = Q(company_id=lead.company_id, lead__isnull=True) & text_mentions(identity, "body")
    return LeadReceiverAttempt.objects.filter(Q(lead=lead) | failed_naming_it)


def _lead_receiver_attempts_export(*, lead: Lead):
    calls = _lead_receiver_attempts(lead=lead, identity=lead_identity(lead)).select_related("receiver")
    for call in calls.order_by("id").iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield inbound_call_document(call=call)


def _lead_receiver_attempts_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    calls = _lead_receiver_attempts(lead=lead, identity=identity)
    return {LeadReceiverAttempt._meta.label: inbound_calls_erase(calls=calls)}


def _lead_imports(*, lead: Lead, identity: LeadIdentity):
    """The company's bulk uploads whose body names the lead (a row of it made, updated or failed for it)."""
    return LeadImport.objects.filter(company_id=lead.company_id).filter(text_mentions(identity, "body"))


def _lead_imports_export(*, lead: Lead):
    uploads = _lead_imports(lead=lead, identity=lead_identity(lead)).order_by("id")
    for upload in uploads.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "uuid": upload.uuid,
            "content_type": upload.content_type,
            "created_at": upload.created_at,
            "outcome": upload.outcome,
            "body": upload.body,
        }


def _lead_imports_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    # An upload holds other leads' rows too; the body goes whole, the counts of what it did stay.
    return {LeadImport._meta.label: inbound_calls_erase(calls=_lead_imports(lead=lead, identity=identity))}


def _admin_log_erase(*, lead: Lead, identity: LeadIdentity) -> dict[str, int]:
    """The admin's history names objects by their str(), which for a lead (and what shows it) is its name,
    email or phone: those lines keep the action and the time, not the name."""
    lead_lines = Q(content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk))
    lines = LogEntry.objects.filter(lead_lines | text_mentions(identity, "object_repr", "change_message"))
    return {LogEntry._meta.label: lines.update(object_repr=ERASED_TEXT, change_message="")}


CRM_LEAD_DATA_SECTIONS = (
    LeadDataSection(name="visitors", export=_visitors_export, erase=_visitors_erase),
    LeadDataSection(
        name="lead_receiver_attempts", export=_lead_receiver_attempts_export, erase=_lead_receiver_attempts_erase
    ),
    LeadDataSection(name="lead_imports", export=_lead_imports_export, erase=_lead_imports_erase),
    LeadDataSection(name="admin_log", erase=_admin_log_erase),
)
