"""Recording engagements: the stage a lead reached on a company action, once per idempotency key."""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from action_engine.attribution import attribution_meta
from action_engine.configs import ActionCompanyConfig, action_company_config
from action_engine.errors import ActionEngineError
from action_engine.events import engagement_recorded
from action_engine.models import ActionCompany, ActionCompanyReceiver, Engagement, Message
from action_engine.systems import system_spec
from crm.models import Lead, Visitor
from salesassist.core.exceptions import Conflict, InvalidInput, NotFound, Unprocessable
from salesassist.core.metrics import engagement_counted

from .lead_states import (
    lead_action_state_advance,
    lead_action_state_engagement_set,
    lead_action_state_last_engagement_id,
)

VISITOR_TOUCH_INTERVAL = timedelta(minutes=1)


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


def engagement_fingerprint(
    *,
    action_company: ActionCompany,
    lead_uuid,
    visitor_uuid,
    receiver: ActionCompanyReceiver | None,
    stage: str,
    message: dict | None,
) -> str:
    """A sha256 of what a request asked to record, in one canonical spelling (sorted keys, no spaces).

    It covers the action, lead, visitor, receiver, stage and the message as received (before the system's
    validator adds to it, e.g. a cart's recomputed prices): a retry of the same request matches, any change to
    what would be recorded does not. It leaves out what does not change the engagement: the link token (a
    retry may carry a fresh one), the key itself, the honeypot, headers.
    """
    asked = {
        "action": str(action_company.uuid),
        "lead": str(lead_uuid),
        "visitor": str(visitor_uuid) if visitor_uuid else None,
        "receiver": str(receiver.uuid) if receiver is not None else None,
        "stage": stage,
        "message": message or {},
    }
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _engagement_for_replay(**lookup) -> Engagement | None:
    related = ("message", "lead", "action_company__action__system")
    return Engagement.objects.select_related(*related).filter(**lookup).first()


def _replayed(engagement: Engagement) -> EngagementRecorded:
    return EngagementRecorded(
        engagement=engagement, current_stage=engagement_current_stage(engagement=engagement), replayed=True
    )


def _replay_for_key(
    *, engagement: Engagement, action_company: ActionCompany, lead_uuid, stage: str, fingerprint: str
) -> EngagementRecorded:
    """The first answer again, if this is the request the key was first used for (IETF Idempotency-Key draft:
    the same key with another request is refused, 422)."""
    if engagement.request_fingerprint:
        same = engagement.request_fingerprint == fingerprint
    else:
        # Recorded before fingerprints were kept: the request can only be compared on what the row says.
        same = (
            engagement.action_company_id == action_company.pk
            and str(engagement.lead.uuid) == str(lead_uuid)
            and engagement.stage == stage
        )
    if not same:
        raise Unprocessable(
            "This idempotency key was already used for a different request; send a new key for a new request.",
            code=ActionEngineError.IDEMPOTENCY_KEY_MISMATCH,
        )
    return _replayed(engagement)


def _visitor_upsert_sql(*, lead: Lead, visitor_uuid, user_agent: str, attribution: dict, now) -> tuple[str, list]:
    """SQL and its parameters: the lead's company's visitor with this uuid, created and linked to the lead when
    first seen, else linked and touched; it answers the visitor's id and first touch, or no row when the visitor
    is another lead's of the same company (a Conflict for the caller). One statement on PostgreSQL and SQLite.

    The first attribution the visitor carries becomes its first touch, never overwritten: the upsert locks the
    row, so two first requests at once keep one. Its last_seen_at is refreshed at most once a minute, and
    updated_at moves only when something did.

    Only the lead's company's visitors are looked at: a uuid that another company's visitor has is, here,
    a uuid not seen yet, and gets a new visitor of this company (Visitor.uuid is unique per company). So
    the answer, and every later answer for that uuid, is the one an unknown uuid gets, and the other
    company's visitor is never linked, touched or named. The link's token binds the visitor uuid too, but
    a company may turn tokens off and receivers carry none: this is what keeps that case from telling
    whether a uuid exists elsewhere.
    """
    values = {
        "uuid": visitor_uuid,
        "created_at": now,
        "updated_at": now,
        "company_id": lead.company_id,
        "lead_id": lead.pk,
        "first_seen_at": now,
        "last_seen_at": now,
        "user_agent": (user_agent or "")[:500],
        "first_touch": attribution or {},
    }
    meta = Visitor._meta
    fields = list(values)
    params = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]
    touched_before = connection.ops.adapt_datetimefield_value(now - VISITOR_TOUCH_INTERVAL)
    stale = "(v.last_seen_at IS NULL OR v.last_seen_at < %s)"
    no_touch = "v.first_touch IN ('{}', 'null')"
    changed = (
        f"v.lead_id IS NULL OR v.first_seen_at IS NULL OR {stale} OR (v.user_agent = '' AND excluded.user_agent <> '')"
        f" OR ({no_touch} AND excluded.first_touch NOT IN ('{{}}', 'null'))"
    )
    sql = f"""
        INSERT INTO {meta.db_table} AS v ({", ".join(fields)})
        VALUES ({", ".join(["%s"] * len(fields))})
        ON CONFLICT (company_id, uuid) DO UPDATE SET
            updated_at = CASE WHEN {changed} THEN excluded.updated_at ELSE v.updated_at END,
            lead_id = excluded.lead_id,
            first_seen_at = COALESCE(v.first_seen_at, excluded.first_seen_at),
            last_seen_at = CASE WHEN {stale} THEN excluded.last_seen_at ELSE v.last_seen_at END,
            user_agent = CASE WHEN v.user_agent = '' THEN excluded.user_agent ELSE v.user_agent END,
            first_touch = CASE WHEN {no_touch} THEN excluded.first_touch ELSE v.first_touch END
        WHERE v.lead_id IS NULL OR v.lead_id = excluded.lead_id
        RETURNING id, first_touch
    """
    return sql, [*params, touched_before, touched_before]


def _visitor_of(*, lead: Lead, visitor_uuid, row) -> Visitor:
    """The visitor the upsert answered (its other fields load on first use); Conflict when it answered none."""
    if row is None:
        raise Conflict("This visitor belongs to another lead.", code=ActionEngineError.VISITOR_OF_ANOTHER_LEAD)
    visitor_id, first_touch = row
    visitor = Visitor.from_db(
        connection.alias,
        ["id", "uuid", "company_id", "lead_id", "first_touch"],
        [
            visitor_id,
            visitor_uuid,
            lead.company_id,
            lead.pk,
            Visitor._meta.get_field("first_touch").from_db_value(first_touch, None, connection),
        ],
    )
    visitor.lead = lead
    return visitor


class LeadNotFound(NotFound):
    """No lead with this uuid in the action's company (the public endpoints answer it like an unknown action)."""


def _lead_get(*, action_company: ActionCompany, lead_uuid) -> Lead:
    """The action company's lead by uuid (LeadNotFound otherwise). Not locked: the lead's state row on the
    action is, by the upsert that advances it."""
    found = list(Lead.objects.filter(company_id=action_company.company_id, uuid=lead_uuid).order_by()[:1])
    if not found:
        raise LeadNotFound("No such lead.", errors={"lead": ["No lead with this uuid in the action's company."]})
    return found[0]


def _engagement_insert(*, message: Message, engagement: Engagement, visitor_upsert: tuple[str, list] | None):
    """Insert the message and the engagement that points at it, after the visitor's upsert when there is one
    (`_visitor_upsert_sql`): on PostgreSQL all in one statement (a data-modifying CTE), elsewhere one after the
    other. Either way the rows are what `save()` would have written (every concrete field, with its defaults and
    auto_now), and both instances end up saved, with their ids. Answers the visitor upsert's row: None without
    one, or when it answered none (the visitor is another lead's; on SQLite nothing was inserted then, on
    PostgreSQL the caller's rollback undoes it)."""
    if connection.vendor != "postgresql":
        visitor_row = None
        if visitor_upsert is not None:
            with connection.cursor() as cursor:
                cursor.execute(*visitor_upsert)
                visitor_row = cursor.fetchone()
            if visitor_row is None:
                return None
            engagement.visitor_id = visitor_row[0]
        message.save(force_insert=True)
        engagement.message = message
        engagement.save(force_insert=True)
        return visitor_row
    quote = connection.ops.quote_name

    def columns_and_values(instance, *, skip):
        fields = [
            field
            for field in instance._meta.concrete_fields
            if field.attname not in skip and not (field.primary_key and instance.pk is None)
        ]
        names = ", ".join(quote(field.column) for field in fields)
        values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
        return names, values

    message_columns, message_values = columns_and_values(message, skip=())
    visitor_sql, visitor_params = visitor_upsert or ("", [])
    from_cte = ["message_id", "visitor_id"] if visitor_upsert else ["message_id"]
    engagement_columns, engagement_values = columns_and_values(engagement, skip=from_cte)
    cte_columns = ", ".join(quote(column) for column in from_cte)
    cte_values = "(SELECT id FROM m), (SELECT id FROM v)" if visitor_upsert else "(SELECT id FROM m)"
    sql = (
        "WITH "
        + (f"v AS ({visitor_sql}), " if visitor_upsert else "")
        + f"m AS (INSERT INTO {quote(Message._meta.db_table)} ({message_columns}) "
        f"VALUES ({', '.join(['%s'] * len(message_values))}) RETURNING id), "
        f"e AS (INSERT INTO {quote(Engagement._meta.db_table)} ({engagement_columns}, {cte_columns}) "
        f"VALUES ({', '.join(['%s'] * len(engagement_values))}, {cte_values}) RETURNING id, message_id) "
        "SELECT e.id, e.message_id"
        + (", (SELECT id FROM v), (SELECT first_touch FROM v)" if visitor_upsert else "")
        + " FROM e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*visitor_params, *message_values, *engagement_values])
        engagement_id, message_id, *visitor_row = cursor.fetchone()
    for instance, pk in ((message, message_id), (engagement, engagement_id)):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
    engagement.message = message
    if not visitor_upsert or visitor_row[0] is None:
        return None
    engagement.visitor_id = visitor_row[0]
    return tuple(visitor_row)


def engagement_record(
    *,
    action_company: ActionCompany,
    stage: str,
    config: ActionCompanyConfig | None = None,
    lead: Lead | None = None,
    lead_uuid=None,
    message: dict | None = None,
    visitor: Visitor | None = None,
    visitor_uuid=None,
    receiver: ActionCompanyReceiver | None = None,
    idempotency_key: str = "",
    deduplicate: bool | None = None,
    user_agent: str = "",
    meta: dict | None = None,
    attribution: dict | None = None,
) -> EngagementRecorded:
    """Record that a lead (given, or by uuid) reached a stage on a company action, with the system-validated
    message.

    The stage must be in the action system's pipeline; a stage behind the lead's furthest one is kept
    as history but does not move the lead back. The same idempotency key (per company) records once,
    guaranteed by a unique constraint, and only for the request it was first used for (its fingerprint);
    another request with it is refused. With `deduplicate` (by default: when there is no key), a request
    identical to the lead's last one on the action, recorded within ENGAGEMENT_DEDUPE_SECONDS, is answered as
    that one; the lock on the lead's state row makes this hold for two at the same moment too. The state row
    (LeadActionState) is advanced by the same transaction. Engagement, message and what the subscribers
    of `engagement_recorded` write (the workflows' deliveries) commit together.
    `meta` is how the stage came about (a share's channel and email Message-ID), kept on the engagement as given.

    `attribution` (utm_*, referrer, landing URL: action_engine/attribution.py) is kept in the engagement's
    `meta`, and as the visitor's first touch if it has none yet. It is not part of the request's fingerprint:
    it says how the lead came, not what it did, so a retry from another tab is still the same request.

    `config` is the company action's cached configuration (action_engine/configs.py), read here when the
    caller has not.
    """
    config = config or action_company_config(action_uuid=action_company.uuid)
    system = config.shared_action_company.action.system.slug
    spec = system_spec(system)
    if stage not in spec.pipeline:
        pipeline = ", ".join(spec.pipeline)
        raise InvalidInput(
            "This stage is not part of the action's pipeline.",
            code=ActionEngineError.STAGE_NOT_IN_PIPELINE,
            errors={"stage": [f"Must be one of: {pipeline}."]},
        )
    lead_uuid = lead.uuid if lead is not None else lead_uuid
    fingerprint = engagement_fingerprint(
        action_company=action_company,
        lead_uuid=lead_uuid,
        visitor_uuid=visitor.uuid if visitor is not None else visitor_uuid,
        receiver=receiver,
        stage=stage,
        message=message,
    )
    body = spec.validate_message(config=config, stage=stage, message=message or {})
    touch = attribution_meta(attribution)
    meta = {**(meta or {}), **touch}
    if deduplicate is None:
        deduplicate = not idempotency_key
    dedupe_seconds = settings.ENGAGEMENT_DEDUPE_SECONDS
    try:
        with transaction.atomic():
            if lead is None or lead.company_id != action_company.company_id:
                lead = _lead_get(action_company=action_company, lead_uuid=lead_uuid)
            now = timezone.now()
            advanced = lead_action_state_advance(
                action_company=action_company,
                lead_id=lead.pk,
                stage=stage,
                rank=spec.stage_rank(stage),
                now=now,
                fingerprint=fingerprint,
                meta=meta,
                deduplicate=deduplicate and dedupe_seconds > 0,
                since=now - timedelta(seconds=dedupe_seconds),
            )
            if advanced.repeat:
                repeat_id = lead_action_state_last_engagement_id(action_company=action_company, lead_id=lead.pk)
                return _replayed(_engagement_for_replay(pk=repeat_id))
            previous_stage = advanced.previous_stage
            message_row = Message(company_id=action_company.company_id, body=body, created_at=now)
            engagement = Engagement(
                id=advanced.engagement_id,
                created_at=now,
                company_id=action_company.company_id,
                action_company=action_company,
                lead=lead,
                visitor=visitor,
                receiver=receiver,
                stage=stage,
                previous_stage=previous_stage,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                meta=meta,
            )
            visitor_upsert = None
            if visitor is None and visitor_uuid:
                visitor_upsert = _visitor_upsert_sql(
                    lead=lead, visitor_uuid=visitor_uuid, user_agent=user_agent, attribution=touch, now=now
                )
            visitor_row = _engagement_insert(message=message_row, engagement=engagement, visitor_upsert=visitor_upsert)
            if visitor_upsert is not None:
                engagement.visitor = _visitor_of(lead=lead, visitor_uuid=visitor_uuid, row=visitor_row)
            if advanced.engagement_id is None:
                lead_action_state_engagement_set(
                    action_company=action_company, lead_id=lead.pk, engagement_id=engagement.pk
                )
            engagement_recorded.emit(engagement=engagement)
            engagement_counted(system=system, stage=stage)
    except IntegrityError:
        # The key was used before (a retry, a double click) or by a request running at this moment: the
        # unique constraint let exactly one in (a twin waits for it to commit, so none is ever still being
        # processed), and nothing of this attempt was kept. Answer as that one did, if it was this request.
        if idempotency_key:
            existing = _engagement_for_replay(company_id=action_company.company_id, idempotency_key=idempotency_key)
            if existing is not None:
                return _replay_for_key(
                    engagement=existing,
                    action_company=action_company,
                    lead_uuid=lead_uuid,
                    stage=stage,
                    fingerprint=fingerprint,
                )
        raise
    return EngagementRecorded(engagement=engagement, current_stage=spec.furthest_stage([stage, previous_stage]))
