"""Write operations of the action engine domain."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_hosts.resolvers import reverse
from jsonschema import Draft202012Validator, SchemaError

from crm.models import Company, Lead, Visitor
from salesassist.core.dotpath import dot_path_get
from salesassist.core.exceptions import (
    INTERNAL_ERROR_STORED,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from salesassist.core.parsers import json_loads_bounded, storable_text
from salesassist.core.positions import links_next_position, links_reorder
from salesassist.core.webhook_signing import secret_generate, secret_is_valid, signature_verify
from salesassist.hosts import DEFAULT as DEFAULT_HOST

from .choices import ModuleKind, ReceiverCallOutcome, Stage
from .events import engagement_recorded
from .models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    Engagement,
    Form,
    Message,
    ReceiverCall,
)
from .selectors import action_company_names_showing, lead_stage_on_action
from .systems import SYSTEMS, parse_uuid, system_spec
from .systems.forms import schema_reference_errors

VISITOR_TOUCH_INTERVAL = timedelta(minutes=1)


@transaction.atomic
def action_company_create(*, company: Company, action: Action, name: str = "", **fields) -> ActionCompany:
    """A company's instance of an action, created with its receiver in the same transaction."""
    action_company = ActionCompany.objects.create(company=company, action=action, name=name or action.name, **fields)
    action_company_receiver_create(action_company=action_company)
    return action_company


@transaction.atomic
def action_company_receiver_create(*, action_company: ActionCompany, **fields) -> ActionCompanyReceiver:
    """A new active receiver for a company action; the one active before it stops accepting calls."""
    ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).update(
        is_active=False
    )
    return ActionCompanyReceiver.objects.create(
        company_id=action_company.company_id, action_company=action_company, **fields
    )


# --- Links sent to leads ---------------------------------------------------------------------------

ACTION_LINK_SALT = "action_engine.action_link"


# The longest a company may make its links live: ten years (and far from datetime's limits).
ACTION_LINK_TTL_MAX_DAYS = 3650


def action_link_ttl(*, company: Company) -> timedelta:
    """How long a shared link stays valid: the company's settings["link_ttl_days"] (at most ten years),
    else the default."""
    days = company.settings.get("link_ttl_days") if isinstance(company.settings, dict) else None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        days = settings.ACTION_LINK_TTL_DAYS
    return timedelta(days=min(days, ACTION_LINK_TTL_MAX_DAYS))


def action_link_sign(*, action_company: ActionCompany, lead: Lead, visitor: Visitor, expires_at: datetime) -> str:
    """A token binding the action, lead and visitor uuids until `expires_at`, signed with SECRET_KEY."""
    payload = {
        "a": str(action_company.uuid),
        "l": str(lead.uuid),
        "v": str(visitor.uuid),
        "e": int(expires_at.timestamp()),
    }
    return signing.dumps(payload, salt=ACTION_LINK_SALT, compress=True)


def action_link_check(*, action_company: ActionCompany, lead_uuid, visitor_uuid, token: str) -> None:
    """PermissionDenied unless the token is valid for these uuids, or absent where the company allows it.

    A company opts in to requiring tokens with settings["require_link_token"]; a token that is sent is
    always checked, so a wrong one never passes silently.
    """
    company_settings = action_company.company.settings
    required = isinstance(company_settings, dict) and company_settings.get("require_link_token") is True
    if not token:
        if required:
            raise PermissionDenied("This action needs the link's token.", code="token_required")
        return
    try:
        payload = signing.loads(token, salt=ACTION_LINK_SALT)
    except signing.BadSignature as exc:
        raise PermissionDenied("The link's token is invalid.", code="token_invalid") from exc
    expected = {"a": str(action_company.uuid), "l": str(lead_uuid), "v": str(visitor_uuid) if visitor_uuid else None}
    if not isinstance(payload, dict) or any(payload.get(key) != value for key, value in expected.items()):
        raise PermissionDenied("The link's token is for another action, lead or visitor.", code="token_invalid")
    if not isinstance(payload.get("e"), int) or payload["e"] < timezone.now().timestamp():
        raise PermissionDenied("The link has expired; ask for a new one.", code="token_expired")


def action_link_url(*, action_company: ActionCompany, lead: Lead, visitor: Visitor, token: str) -> str:
    """Our reference page on the default host, or the company's own page base URL when it set one."""
    params = {"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": token}
    if action_company.page_url:
        parts = urlsplit(action_company.page_url)
        query = [*parse_qsl(parts.query, keep_blank_values=True), ("action", str(action_company.uuid)), *params.items()]
        return urlunsplit(parts._replace(query=urlencode(query)))
    url = reverse(
        "action_page",
        kwargs={"action_uuid": action_company.uuid},
        host=DEFAULT_HOST,
        scheme=f"{settings.PUBLIC_URL_SCHEME}://",
    )
    return f"{url}?{urlencode(params)}"


@dataclass(frozen=True)
class ActionShared:
    """What sharing an action with a lead produced."""

    url: str
    visitor: Visitor
    engagement: Engagement
    expires_at: datetime


def action_company_share(*, action_company: ActionCompany, lead: Lead) -> ActionShared:
    """A new visitor for the lead, a `sent` engagement and the signed link to send them."""
    if lead.company_id != action_company.company_id:
        raise NotFound("No such lead.")
    expires_at = timezone.now() + action_link_ttl(company=action_company.company)
    with transaction.atomic():
        # Every share gets its own visitor: the link identifies one delivery of it, one browser.
        visitor = Visitor.objects.create(company_id=lead.company_id, lead=lead)
        recorded = engagement_record(action_company=action_company, lead=lead, visitor=visitor, stage=Stage.SENT)
        # Signed inside the transaction: if building the link fails, no visitor or `sent` is left behind.
        token = action_link_sign(action_company=action_company, lead=lead, visitor=visitor, expires_at=expires_at)
        url = action_link_url(action_company=action_company, lead=lead, visitor=visitor, token=token)
    return ActionShared(url=url, visitor=visitor, engagement=recorded.engagement, expires_at=expires_at)


# --- Engagements -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngagementRecorded:
    """An engagement and the lead's stage on the action once it was recorded."""

    engagement: Engagement
    current_stage: str
    replayed: bool = False


def engagement_current_stage(*, engagement: Engagement) -> str:
    """The lead's stage on the action right after this engagement: never behind its previous one."""
    spec = system_spec(engagement.action_company.action.system.slug)
    return spec.furthest_stage([engagement.stage, engagement.previous_stage])


def _engagement_for_key(*, company_id: int, idempotency_key: str) -> Engagement | None:
    return (
        Engagement.objects.select_related("message", "lead", "action_company__action__system")
        .filter(company_id=company_id, idempotency_key=idempotency_key)
        .first()
    )


def _replay(*, engagement: Engagement, action_company: ActionCompany, lead_uuid, stage: str) -> EngagementRecorded:
    same = (
        engagement.action_company_id == action_company.pk
        and str(engagement.lead.uuid) == str(lead_uuid)
        and engagement.stage == stage
    )
    if not same:
        raise Conflict(
            "This idempotency key was already used for a different engagement.", code="idempotency_key_reused"
        )
    return EngagementRecorded(
        engagement=engagement, current_stage=engagement_current_stage(engagement=engagement), replayed=True
    )


def _visitor_for_lead(*, lead: Lead, visitor_uuid, user_agent: str) -> Visitor:
    """The visitor with this uuid, created and linked to the lead when first seen; Conflict if it is another lead's."""
    now = timezone.now()
    found = list(Visitor.objects.select_for_update().filter(uuid=visitor_uuid).order_by()[:1])
    visitor = found[0] if found else None
    if visitor is None:
        try:
            with transaction.atomic():
                return Visitor.objects.create(
                    uuid=visitor_uuid,
                    company_id=lead.company_id,
                    lead=lead,
                    first_seen_at=now,
                    last_seen_at=now,
                    user_agent=(user_agent or "")[:500],
                )
        except IntegrityError:
            # Another request created the same browser's visitor a moment ago.
            visitor = Visitor.objects.select_for_update().get(uuid=visitor_uuid)
    if visitor.company_id != lead.company_id or (visitor.lead_id is not None and visitor.lead_id != lead.pk):
        raise Conflict("This visitor belongs to another lead.", code="visitor_of_another_lead")
    changed = []
    if visitor.lead_id is None:
        visitor.lead = lead
        changed.append("lead")
    if visitor.first_seen_at is None:
        visitor.first_seen_at = now
        changed.append("first_seen_at")
    # last_seen_at is refreshed at most once a minute, so a burst of events costs one write.
    if visitor.last_seen_at is None or visitor.last_seen_at < now - VISITOR_TOUCH_INTERVAL:
        visitor.last_seen_at = now
        changed.append("last_seen_at")
    if user_agent and not visitor.user_agent:
        visitor.user_agent = user_agent[:500]
        changed.append("user_agent")
    if changed:
        visitor.save(update_fields=[*changed, "updated_at"])
    return visitor


class LeadNotFound(NotFound):
    """No lead with this uuid in the action's company (the public endpoints answer it like an unknown action)."""


def _lead_locked(*, action_company: ActionCompany, lead_uuid) -> Lead:
    """The action company's lead by uuid, its row locked to the end of the transaction (404 otherwise).

    The lock serializes one lead's engagements, so two at once still agree on the furthest stage. That
    stage is read by the next statement on purpose: a subquery in this one would read the snapshot from
    before the wait for the lock (PostgreSQL re-checks only the locked row), missing the engagement the
    other transaction just committed.
    """
    found = list(
        Lead.objects.select_for_update().filter(company_id=action_company.company_id, uuid=lead_uuid).order_by()[:1]
    )
    if not found:
        raise LeadNotFound("No such lead.", errors={"lead": ["No lead with this uuid in the action's company."]})
    return found[0]


def engagement_record(
    *,
    action_company: ActionCompany,
    stage: str,
    lead: Lead | None = None,
    lead_uuid=None,
    message: dict | None = None,
    visitor: Visitor | None = None,
    visitor_uuid=None,
    receiver: ActionCompanyReceiver | None = None,
    idempotency_key: str = "",
    user_agent: str = "",
) -> EngagementRecorded:
    """Record that a lead (given, or by uuid) reached a stage on a company action, with the system-validated
    message.

    The stage must be in the action system's pipeline; a stage behind the lead's furthest one is kept
    as history but does not move the lead back. The same idempotency key (per company) records once,
    guaranteed by a unique constraint. Engagement, message and what the subscribers of `engagement_recorded`
    write (the workflows' deliveries) commit together.
    """
    spec = system_spec(action_company.action.system.slug)
    if stage not in spec.pipeline:
        pipeline = ", ".join(spec.pipeline)
        raise InvalidInput(
            "This stage is not part of the action's pipeline.",
            code="stage_not_in_pipeline",
            errors={"stage": [f"Must be one of: {pipeline}."]},
        )
    lead_uuid = lead.uuid if lead is not None else lead_uuid
    body = spec.validate_message(action_company=action_company, stage=stage, message=message or {})
    try:
        with transaction.atomic():
            lead = _lead_locked(action_company=action_company, lead_uuid=lead_uuid)
            previous_stage = lead_stage_on_action(action_company=action_company, lead=lead)
            if visitor is None and visitor_uuid:
                visitor = _visitor_for_lead(lead=lead, visitor_uuid=visitor_uuid, user_agent=user_agent)
            message_row = Message.objects.create(company_id=action_company.company_id, body=body)
            engagement = Engagement.objects.create(
                company_id=action_company.company_id,
                action_company=action_company,
                lead=lead,
                visitor=visitor,
                receiver=receiver,
                stage=stage,
                previous_stage=previous_stage,
                message=message_row,
                idempotency_key=idempotency_key,
            )
            engagement_recorded.emit(engagement=engagement)
    except IntegrityError:
        # The key was used before (a retry, a double click) or by a request running at this moment: the
        # unique constraint let exactly one in, and nothing of this attempt was kept. Answer as that one did.
        if idempotency_key:
            existing = _engagement_for_key(company_id=action_company.company_id, idempotency_key=idempotency_key)
            if existing is not None:
                return _replay(engagement=existing, action_company=action_company, lead_uuid=lead_uuid, stage=stage)
        raise
    return EngagementRecorded(engagement=engagement, current_stage=spec.furthest_stage([stage, previous_stage]))


# --- Company action receivers ----------------------------------------------------------------------

# Headers that carry credentials are never stored with a raw call.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
RECEIVER_MAPPING_KEYS = ("lead", "visitor", "stage", "message")
# A call still "received" after this long was cut off mid-processing (a crash): replay may take it.
RECEIVER_CALL_STALE_AFTER = timedelta(minutes=5)


class SignatureInvalid(DomainError):
    """A receiver with a secret got a call without a valid Standard Webhooks signature."""

    status = 401
    code = "invalid_signature"
    title = "Invalid signature"


@dataclass(frozen=True)
class ReceiverCallHandled:
    """A stored receiver call after processing: the engagement it made, or the error that stopped it."""

    call: ReceiverCall
    recorded: EngagementRecorded | None = None
    error: DomainError | None = None


def receiver_call_store(
    *, receiver: ActionCompanyReceiver, headers: dict, body: str, source_ip: str | None
) -> ReceiverCall:
    """Keep the raw call, committed on its own, before anything can fail: nothing posted is lost."""
    kept_headers = {name.lower(): value for name, value in headers.items() if name.lower() not in SECRET_HEADERS}
    with transaction.atomic():
        return ReceiverCall.objects.create(
            company_id=receiver.company_id,
            receiver=receiver,
            headers=kept_headers,
            body=storable_text(body),
            source_ip=source_ip or None,
        )


def _verify_signature(*, secret: str, headers: dict, body: str) -> None:
    if not signature_verify(secret=secret, headers=headers, body=body):
        raise SignatureInvalid("The call's webhook signature is missing or invalid.")


def _verify_stored_signature(*, secret: str, headers: dict, body: str) -> None:
    """The same check for a replayed call, without the 5-minute freshness window a live call must meet:
    a call cut off while it was processed may never have had its signature checked."""
    if not signature_verify(secret=secret, headers=headers, body=body, fresh=False):
        raise SignatureInvalid("The call's webhook signature is missing or invalid.")


def receiver_payload_map(*, receiver: ActionCompanyReceiver, payload) -> dict:
    """lead, visitor, stage and message out of a third party's JSON by the receiver's mapping.

    mapping = {"lead": "<dot path>", "visitor": ..., "stage": ..., "message": "<dot path or $>",
    "stages": {"<their event name>": "<our stage>"}}; a key not mapped is read at its own name.
    """
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.", errors={"body": ["Must be a JSON object."]})
    mapping = receiver.mapping if isinstance(receiver.mapping, dict) else {}
    values = {key: dot_path_get(payload, str(mapping.get(key) or key)) for key in RECEIVER_MAPPING_KEYS}
    translations = mapping.get("stages") if isinstance(mapping.get("stages"), dict) else {}
    stage = values["stage"]
    if isinstance(stage, str) and stage in translations:
        stage = translations[stage]
    values["stage"] = stage or receiver.default_stage
    errors = {}
    lead_uuid = parse_uuid(values["lead"])
    if lead_uuid is None:
        errors["lead"] = [f"No lead uuid at {mapping.get('lead') or 'lead'}."]
    visitor_uuid = None
    if values["visitor"] not in (None, ""):
        visitor_uuid = parse_uuid(values["visitor"])
        if visitor_uuid is None:
            errors["visitor"] = [f"Not a uuid at {mapping.get('visitor') or 'visitor'}."]
    if not isinstance(values["stage"], str) or not values["stage"]:
        errors["stage"] = ["No stage in the call and the receiver has no default stage."]
    message = values["message"] if values["message"] is not None else {}
    if not isinstance(message, dict):
        errors["message"] = ["The message must be a JSON object."]
    if errors:
        raise InvalidInput("The call could not be mapped; see errors.", code="mapping_failed", errors=errors)
    return {"lead": lead_uuid, "visitor": visitor_uuid, "stage": values["stage"], "message": message}


def _receiver_call_engagement(*, call: ReceiverCall, replay: bool) -> EngagementRecorded:
    receiver = call.receiver
    if receiver.secret:
        verify = _verify_stored_signature if replay else _verify_signature
        verify(secret=receiver.secret, headers=call.headers, body=call.body)
    try:
        payload = json_loads_bounded(call.body)
    except ValueError as exc:
        raise InvalidInput("The body is not valid JSON.", code="parse_error", errors={"body": [str(exc)]}) from exc
    mapped = receiver_payload_map(receiver=receiver, payload=payload)
    action_company = (
        ActionCompany.objects.select_related("action__system", "company")
        .filter(pk=receiver.action_company_id, is_active=True, company__is_active=True)
        .first()
    )
    if action_company is None:
        # Kept as failed: replayable once the action (or the company) is active again.
        raise NotFound("The receiver's action or its company is not active.")
    # Standard Webhooks senders retry with the same webhook-id: it makes their retries count once. Without
    # one, the call's own uuid makes its replays count once, even after a crash between recording the
    # engagement and marking the call processed.
    webhook_id = str(call.headers.get("webhook-id") or "")[:100]
    return engagement_record(
        action_company=action_company,
        lead_uuid=mapped["lead"],
        stage=mapped["stage"],
        message=mapped["message"],
        visitor_uuid=mapped["visitor"],
        receiver=receiver,
        idempotency_key=f"receiver:{receiver.uuid}:{webhook_id}" if webhook_id else f"receiver-call:{call.uuid}",
    )


def _receiver_call_failed(*, receiver_call: ReceiverCall, problem: dict) -> None:
    receiver_call.outcome = ReceiverCallOutcome.FAILED
    receiver_call.error = problem
    receiver_call.processed_at = timezone.now()
    receiver_call.save(update_fields=["outcome", "error", "processed_at", "updated_at"])


def receiver_call_process(*, receiver_call: ReceiverCall, replay: bool = False) -> ReceiverCallHandled:
    """Turn a stored call into an engagement and record the outcome on the call, success or not."""
    try:
        recorded = _receiver_call_engagement(call=receiver_call, replay=replay)
    except DomainError as error:
        _receiver_call_failed(receiver_call=receiver_call, problem=error.as_stored())
        return ReceiverCallHandled(call=receiver_call, error=error)
    except Exception:
        # Our fault, not the sender's: the call is kept as failed, to be replayed once it is fixed.
        _receiver_call_failed(receiver_call=receiver_call, problem=INTERNAL_ERROR_STORED)
        raise
    receiver_call.outcome = ReceiverCallOutcome.PROCESSED
    receiver_call.error = None
    receiver_call.engagement = recorded.engagement
    receiver_call.processed_at = timezone.now()
    receiver_call.save(update_fields=["outcome", "error", "engagement", "processed_at", "updated_at"])
    return ReceiverCallHandled(call=receiver_call, recorded=recorded)


def receiver_call_is_replayable(*, receiver_call: ReceiverCall) -> bool:
    if receiver_call.outcome == ReceiverCallOutcome.FAILED:
        # An unsigned or forged call stays refused: replaying would skip the check it failed.
        return (receiver_call.error or {}).get("code") != SignatureInvalid.code
    stale = timezone.now() - RECEIVER_CALL_STALE_AFTER
    return receiver_call.outcome == ReceiverCallOutcome.RECEIVED and receiver_call.created_at < stale


def receiver_call_replay(*, receiver_call: ReceiverCall) -> ReceiverCallHandled:
    """Process a failed (or interrupted) call again, its signature checked again without the freshness window."""
    with transaction.atomic():
        # The row lock makes two replays of one call run one after the other; the second sees it processed.
        call = ReceiverCall.objects.select_for_update().select_related("receiver").get(pk=receiver_call.pk)
        if not receiver_call_is_replayable(receiver_call=call):
            raise Conflict(
                f"This call cannot be replayed (outcome {call.outcome}).", code="receiver_call_not_replayable"
            )
        return receiver_call_process(receiver_call=call, replay=True)


# --- The catalogue: a company's own actions and their default workflows (API) -----------------------

ACTION_FIELDS = ("name", "slug", "description", "type", "system", "data_type", "config", "is_published")


def action_check_owner(*, action: Action, company: Company) -> None:
    """Only the company owning a catalogue action changes it (or what runs on it); global ones are staff's."""
    if action.company_id is None:
        raise PermissionDenied("Global catalogue actions are managed by SalesAssist staff only.", code="global_action")
    if action.company_id != company.pk:
        raise NotFound("No such action.")


def _action_save(*, action: Action) -> Action:
    clash = Action.objects.filter(company_id=action.company_id, slug=action.slug).exclude(pk=action.pk)
    if clash.exists():
        raise InvalidInput("Another action of this company has this slug.", errors={"slug": ["Already in use."]})
    if action.system_id and action.system.slug not in SYSTEMS:
        raise InvalidInput("This action system is not implemented.", errors={"system": ["Not implemented."]})
    action.save()
    return action


def action_create(*, company: Company, **fields) -> Action:
    """A catalogue action of the company's own, next to the global ones."""
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"action_create() got unexpected fields {sorted(unknown)}")
    fields.setdefault("config", {})
    return _action_save(action=Action(company=company, **fields))


def action_update(*, action: Action, company: Company, **fields) -> Action:
    """Change a company's own action; global ones are read-only (PermissionDenied)."""
    action_check_owner(action=action, company=company)
    if "system" in fields and fields["system"] != action.system and action.company_actions.exists():
        raise InvalidInput(
            "The system of an action that company actions use cannot change.",
            errors={"system": ["Company actions use this action; its system is fixed."]},
        )
    for name, value in fields.items():
        if name not in ACTION_FIELDS:
            raise TypeError(f"action_update() got an unexpected field {name!r}")
        setattr(action, name, value)
    return _action_save(action=action)


def action_soft_delete(*, action: Action, company: Company) -> Action:
    """Hide a company's own action that no alive company action uses."""
    action_check_owner(action=action, company=company)
    if action.company_actions.exists():
        raise Conflict("Company actions still use this action; delete them first.", code="in_use")
    action.delete()
    return action


# --- Company actions: changes and modules (API) ---------------------------------------------

ACTION_COMPANY_FIELDS = ("name", "description", "config", "is_active", "is_published", "page_url")


def action_company_update(*, action_company: ActionCompany, **fields) -> ActionCompany:
    """Change a company action's own fields; its catalogue action is fixed once created."""
    for name, value in fields.items():
        if name not in ACTION_COMPANY_FIELDS:
            raise TypeError(f"action_company_update() got an unexpected field {name!r}")
        setattr(action_company, name, value)
    if not action_company.name:
        raise InvalidInput("A company action needs a name.", errors={"name": ["This field may not be blank."]})
    action_company.save()
    return action_company


@transaction.atomic
def action_company_soft_delete(*, action_company: ActionCompany) -> ActionCompany:
    """Hide a company action; its receivers stop accepting calls, its engagements stay as history."""
    ActionCompanyReceiver.objects.filter(action_company=action_company, is_active=True).update(is_active=False)
    action_company.delete()
    return action_company


def _module_target(*, company: Company, kind: str, target_uuid):
    """The company's alive product, content or form with this uuid; InvalidInput on `target` otherwise."""
    from products.models import Content, Product

    from .models import Form

    model = {ModuleKind.PRODUCT: Product, ModuleKind.CONTENT: Content, ModuleKind.FORM: Form}[ModuleKind(kind)]
    target = model.objects.filter(company=company, uuid=target_uuid).first()
    if target is None:
        raise InvalidInput(
            f"No such {ModuleKind(kind).label.lower()} of this company.",
            errors={"target": [f"No {ModuleKind(kind).label.lower()} of this company has this uuid."]},
        )
    return target


@transaction.atomic
def action_company_module_attach(
    *, action_company: ActionCompany, kind: str, target_uuid, position: int | None = None
) -> ActionCompanySystemModule:
    """Show a product, content or form on a company action's page; the action's system must show that kind."""
    spec = system_spec(action_company.action.system.slug)
    if kind not in spec.module_kinds:
        allowed = ", ".join(sorted(spec.module_kinds))
        raise InvalidInput(
            f"A {spec.slug} action cannot show a {kind}.",
            code="module_kind_not_allowed",
            errors={"kind": [f"This action's system shows only: {allowed}."]},
        )
    target = _module_target(company=action_company.company, kind=kind, target_uuid=target_uuid)
    modules = ActionCompanySystemModule.objects.filter(action_company=action_company)
    if modules.filter(**{kind: target}).exists():
        raise InvalidInput("This module is already attached.", errors={"target": ["Already attached."]})
    return ActionCompanySystemModule.objects.create(
        action_company=action_company,
        kind=kind,
        position=links_next_position(modules) if position is None else position,
        **{kind: target},
    )


def module_target_delete_check(*, product=None, content=None) -> None:
    """A product or content that a company action's page shows cannot be deleted (products' deleting events)."""
    target = product if product is not None else content
    names = action_company_names_showing(target=target)
    if names:
        noun = "product" if product is not None else "content"
        raise Conflict(f"The {noun} is shown by company actions: {', '.join(names)}. Detach it first.", code="in_use")


def action_company_module_detach(*, module: ActionCompanySystemModule) -> None:
    """Stop showing a module on the page."""
    module.delete()


@transaction.atomic
def action_company_modules_reorder(*, action_company: ActionCompany, modules: list) -> list[ActionCompanySystemModule]:
    """Put a company action's modules in the given order (uuids of the modules)."""
    links = ActionCompanySystemModule.objects.select_for_update().filter(action_company=action_company)
    links_reorder(links=list(links), key="", order=modules, field="modules")
    return list(
        ActionCompanySystemModule.objects.filter(action_company=action_company)
        .select_related("product", "content", "form")
        .order_by("position", "id")
    )


def action_company_receiver_secret_generate() -> str:
    """A new Standard Webhooks secret for a receiver."""
    return secret_generate()


def action_company_receiver_rotate(
    *,
    action_company: ActionCompany,
    secret: str = "",
    mapping: dict | None = None,
    default_stage: str | None = None,
) -> ActionCompanyReceiver:
    """A new active receiver replacing the current one; mapping and default stage carry over unless given."""
    spec = system_spec(action_company.action.system.slug)
    current = action_company.receivers.filter(is_active=True).first()
    if mapping is None:
        mapping = dict(current.mapping) if current else {}
    if default_stage is None:
        default_stage = current.default_stage if current else ""
    if default_stage and default_stage not in spec.pipeline:
        raise InvalidInput(
            "The default stage is not in the action's pipeline.",
            errors={"default_stage": [f"Must be one of: {', '.join(spec.pipeline)}."]},
        )
    if secret and not secret_is_valid(secret):
        raise InvalidInput(
            "Not a Standard Webhooks secret.",
            errors={"secret": ["Must be whsec_ followed by 24 to 64 random bytes in base64."]},
        )
    return action_company_receiver_create(
        action_company=action_company, secret=secret, mapping=mapping, default_stage=default_stage
    )


# --- Forms ------------------------------------------------------------------------------------------

FORM_FIELDS = ("name", "description", "schema", "submit_label", "success_message")


def form_schema_errors(schema) -> list[str]:
    """Why `schema` is not a usable form: not a JSON Schema (draft 2020-12) or not of type object."""
    if not isinstance(schema, dict):
        return ["Must be a JSON object."]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        return [f"Not a valid JSON Schema (draft 2020-12){' at ' + where if where else ''}: {exc.message}"]
    if schema.get("type") != "object":
        return ['A form schema must have "type": "object".']
    remote = sorted(_schema_remote_refs(schema))
    if remote:
        return [f'Only references inside the schema ("#/...") are allowed, not {", ".join(remote)}.']
    return schema_reference_errors(schema)


def _schema_remote_refs(node) -> set[str]:
    """The "$ref"/"$dynamicRef" values of a schema that point outside it (they are never fetched)."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                found.add(value)
            else:
                found |= _schema_remote_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _schema_remote_refs(item)
    return found


def _form_save(*, form: Form) -> Form:
    errors = form_schema_errors(form.schema)
    if errors:
        raise InvalidInput("The form schema is invalid.", code="invalid_schema", errors={"schema": errors})
    form.save()
    return form


def form_create(*, company: Company, **fields) -> Form:
    """A new form of the company; its schema must be a JSON Schema of type object."""
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise TypeError(f"form_create() got unexpected fields {sorted(unknown)}")
    return _form_save(form=Form(company=company, **fields))


def form_update(*, form: Form, **fields) -> Form:
    """Change a form; the schema is validated again."""
    for name, value in fields.items():
        if name not in FORM_FIELDS:
            raise TypeError(f"form_update() got an unexpected field {name!r}")
        setattr(form, name, value)
    return _form_save(form=form)


def form_soft_delete(*, form: Form) -> Form:
    """Hide a form that no alive company action shows."""
    used_by = ActionCompanySystemModule.objects.filter(form=form, action_company__deleted_at__isnull=True)
    if used_by.exists():
        raise Conflict("Company actions still show this form; detach it first.", code="in_use")
    form.delete()
    return form
