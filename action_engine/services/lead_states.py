"""Where each lead stands on each company action (LeadActionState): advanced by every engagement in its
transaction, and rebuilt from the engagements on demand.

Both write the same thing, so that a rebuild equals what the engagements wrote one by one: every column is
an aggregate of the pair's engagements that does not depend on the order they were added in (the furthest
rank, the earliest time per stage, the first and last time, the count, the greatest id), except
`previous_stage` and `last_fingerprint` (those of the last engagement) and `utm_source` (the first one by id
that carried one). The SQL is written out because the ORM has no upsert with expressions; it runs on
PostgreSQL and SQLite alike.
"""
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from action_engine.choices import Stage
from action_engine.models import ActionCompany, Engagement, LeadActionState
from action_engine.systems import SYSTEMS

STATE_TABLE = LeadActionState._meta.db_table
ENGAGEMENT_TABLE = Engagement._meta.db_table
UTM_SOURCE_MAX_LENGTH = LeadActionState._meta.get_field("utm_source").max_length


def stage_column(stage: str) -> str:
    """The column holding when a stage was first reached."""
    return f"{Stage(stage).value}_at"


STAGE_COLUMNS = [stage_column(stage) for stage in Stage]


def _earliest(column: str) -> str:
    return f"CASE WHEN s.{column} IS NULL OR excluded.{column} < s.{column} THEN excluded.{column} ELSE s.{column} END"


def _advance_sql(*, stage: str, allocates_engagement_id: bool) -> str:
    # On PostgreSQL the engagement's id is drawn here, in the SET that runs under the row's lock, so one
    # lead's engagements on an action get ids in the order they were serialized; the row points at the
    # engagement the next statement inserts (foreign keys are checked at commit). SQLite has no sequences:
    # engagement_record inserts first and sets last_engagement_id after (it serializes every write anyway).
    column = stage_column(stage)
    next_id = f"nextval(pg_get_serial_sequence('{ENGAGEMENT_TABLE}', 'id'))" if allocates_engagement_id else "NULL"
    kept_id = next_id if allocates_engagement_id else "s.last_engagement_id"
    return f"""
        INSERT INTO {STATE_TABLE} AS s (
            company_id, action_company_id, lead_id, stage, stage_rank, previous_stage, {column},
            first_engaged_at, last_engaged_at, last_engagement_id, engagement_count, utm_source, last_fingerprint
        ) VALUES (
            %(company)s, %(action_company)s, %(lead)s, %(stage)s, %(rank)s, '', %(now)s,
            %(now)s, %(now)s, {next_id}, 1, %(utm_source)s, %(fingerprint)s
        )
        ON CONFLICT (action_company_id, lead_id) DO UPDATE SET
            stage = CASE WHEN excluded.stage_rank > s.stage_rank THEN excluded.stage ELSE s.stage END,
            stage_rank = CASE WHEN excluded.stage_rank > s.stage_rank THEN excluded.stage_rank ELSE s.stage_rank END,
            previous_stage = s.stage,
            {column} = {_earliest(column)},
            first_engaged_at = CASE WHEN excluded.first_engaged_at < s.first_engaged_at
                                    THEN excluded.first_engaged_at ELSE s.first_engaged_at END,
            last_engaged_at = CASE WHEN excluded.last_engaged_at > s.last_engaged_at
                                   THEN excluded.last_engaged_at ELSE s.last_engaged_at END,
            last_engagement_id = {kept_id},
            engagement_count = s.engagement_count + 1,
            utm_source = CASE WHEN s.utm_source = '' THEN excluded.utm_source ELSE s.utm_source END,
            last_fingerprint = excluded.last_fingerprint
        WHERE NOT (%(deduplicate)s AND s.last_fingerprint = excluded.last_fingerprint
                   AND s.last_engaged_at >= %(since)s)
        RETURNING previous_stage, last_engagement_id
    """


@dataclass(frozen=True)
class StateAdvanced:
    """What advancing the state said: the furthest stage before this engagement and the id the engagement
    gets (None on SQLite: it inserts first); or, for a repeat, nothing was written (`repeat`)."""

    repeat: bool
    previous_stage: str = ""
    engagement_id: int | None = None


def utm_source_of(meta: dict | None) -> str:
    """The utm_source a request's meta carries ("" for none, or for one that is not a string)."""
    value = meta.get("utm_source") if isinstance(meta, dict) else None
    return value[:UTM_SOURCE_MAX_LENGTH] if isinstance(value, str) else ""


def lead_action_state_advance(
    *,
    action_company: ActionCompany,
    lead_id: int,
    stage: str,
    rank: int,
    now: datetime,
    fingerprint: str,
    meta: dict | None,
    deduplicate: bool,
    since: datetime,
) -> StateAdvanced:
    """Advance the lead's state on the action by one engagement at `stage`, in one upsert that also locks the
    row to the end of the caller's transaction: that lock serializes one lead's engagements on an action.

    With `deduplicate`, when the last engagement had this fingerprint and was recorded since `since`, nothing
    is written (the row is still locked) and the answer is a repeat: the caller answers with
    `last_engagement_id`, read under the lock. Must run inside the engagement's transaction.
    """
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "company": action_company.company_id,
        "action_company": action_company.pk,
        "lead": lead_id,
        "stage": stage,
        "rank": rank,
        "now": adapt(now),
        "utm_source": utm_source_of(meta),
        "fingerprint": fingerprint,
        "deduplicate": deduplicate,
        "since": adapt(since),
    }
    allocates = connection.vendor == "postgresql"
    sql = _advance_sql(stage=stage, allocates_engagement_id=allocates)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return StateAdvanced(repeat=True)
    return StateAdvanced(repeat=False, previous_stage=row[0], engagement_id=row[1] if allocates else None)


def lead_action_state_last_engagement_id(*, action_company: ActionCompany, lead_id: int) -> int | None:
    """The pair's last engagement (for a repeat: the one it is answered as)."""
    return (
        LeadActionState.objects.filter(action_company=action_company, lead_id=lead_id)
        .values_list("last_engagement_id", flat=True)
        .first()
    )


def lead_action_state_engagement_set(*, action_company: ActionCompany, lead_id: int, engagement_id: int) -> None:
    """Point the pair's state at its new engagement (SQLite, where the id is known only after the insert)."""
    LeadActionState.objects.filter(action_company=action_company, lead_id=lead_id).update(
        last_engagement_id=engagement_id
    )


# --- Rebuilding from the engagements -------------------------------------------------------------------


def _rank_case() -> str:
    """SQL: an engagement's rank in its action system's pipeline (NULL for a stage outside it)."""
    whens = [
        f"WHEN sys.slug = '{slug}' AND e.stage = '{stage.value}' THEN {rank}"
        for slug, spec in SYSTEMS.items()
        for rank, stage in enumerate(spec.pipeline)
    ]
    return "CASE " + " ".join(whens) + " END"


def _stage_of_rank_case() -> str:
    whens = [
        f"WHEN g.system = '{slug}' AND g.stage_rank = {rank} THEN '{stage.value}'"
        for slug, spec in SYSTEMS.items()
        for rank, stage in enumerate(spec.pipeline)
    ]
    return "CASE " + " ".join(whens) + " END"


def _utm_source_sql(vendor: str) -> str:
    """SQL: the utm_source an engagement's meta carries, when it is a non-empty string (else NULL)."""
    if vendor == "postgresql":
        value = "u.meta ->> 'utm_source'"
        is_text = "jsonb_typeof(u.meta -> 'utm_source') = 'string'"
    else:
        value = "json_extract(u.meta, '$.utm_source')"
        is_text = "json_type(u.meta, '$.utm_source') = 'text'"
    return f"CASE WHEN {is_text} AND {value} <> '' THEN SUBSTR({value}, 1, {UTM_SOURCE_MAX_LENGTH}) END"


def lead_action_states_rebuild_sql(*, where: str, vendor: str) -> str:
    """SQL: insert the state of every (action, lead) pair whose engagements match `where` (on `e`)."""
    utm_source = _utm_source_sql(vendor)
    stage_times = ",\n".join(
        f"MIN(CASE WHEN e.stage = '{stage.value}' THEN e.created_at END) AS {stage_column(stage)}" for stage in Stage
    )
    stage_columns = ", ".join(STAGE_COLUMNS)
    grouped_stage_columns = ", ".join(f"g.{column}" for column in STAGE_COLUMNS)
    return f"""
        INSERT INTO {STATE_TABLE} (
            company_id, action_company_id, lead_id, stage, stage_rank, previous_stage, {stage_columns},
            first_engaged_at, last_engaged_at, last_engagement_id, engagement_count, utm_source, last_fingerprint
        )
        SELECT g.company_id, g.action_company_id, g.lead_id, {_stage_of_rank_case()}, g.stage_rank,
               last.previous_stage, {grouped_stage_columns}, g.first_engaged_at, g.last_engaged_at,
               g.last_engagement_id, g.engagement_count,
               COALESCE((SELECT {utm_source} FROM {ENGAGEMENT_TABLE} u
                          WHERE u.action_company_id = g.action_company_id AND u.lead_id = g.lead_id
                            AND {utm_source} IS NOT NULL
                          ORDER BY u.id LIMIT 1), ''),
               last.request_fingerprint
          FROM (
            SELECT e.company_id, e.action_company_id, e.lead_id, sys.slug AS system,
                   MAX({_rank_case()}) AS stage_rank,
                   {stage_times},
                   MIN(e.created_at) AS first_engaged_at, MAX(e.created_at) AS last_engaged_at,
                   MAX(e.id) AS last_engagement_id, COUNT(*) AS engagement_count
              FROM {ENGAGEMENT_TABLE} e
              JOIN {ActionCompany._meta.db_table} ac ON ac.id = e.action_company_id
              JOIN action_engine_action a ON a.id = ac.action_id
              JOIN action_engine_actionsystem sys ON sys.id = a.system_id
             WHERE ({where}) AND ({_rank_case()}) IS NOT NULL
             GROUP BY e.company_id, e.action_company_id, e.lead_id, sys.slug
          ) g
          JOIN {ENGAGEMENT_TABLE} last ON last.id = g.last_engagement_id
    """


def lead_action_states_rebuild(*, company=None, batch_size: int = 1000) -> int:
    """Recompute the state of every (action, lead) pair from the engagements (of one company, or all), in
    batches of `batch_size` leads, each batch in its own transaction; returns how many rows were written.

    Idempotent: a batch deletes its rows and inserts them again from the history. A live engagement of a
    lead in the batch waits for the batch's lock on its row (or the batch's delete waits for it), so it is
    either in what the batch reads or applied on top of what it wrote.
    """
    engagements = Engagement.objects.all() if company is None else Engagement.objects.filter(company=company)
    lead_ids = list(engagements.order_by("lead_id").values_list("lead_id", flat=True).distinct())
    written = 0
    for start in range(0, len(lead_ids), batch_size):
        low, high = lead_ids[start], lead_ids[min(start + batch_size, len(lead_ids)) - 1]
        where = "e.lead_id BETWEEN %(low)s AND %(high)s"
        states = LeadActionState.objects.filter(lead_id__gte=low, lead_id__lte=high)
        if company is not None:
            where += " AND e.company_id = %(company)s"
            states = states.filter(company=company)
        params = {"low": low, "high": high, "company": getattr(company, "pk", None)}
        with transaction.atomic():
            states.delete()
            with connection.cursor() as cursor:
                cursor.execute(lead_action_states_rebuild_sql(where=where, vendor=connection.vendor), params)
                written += cursor.rowcount
    return written
