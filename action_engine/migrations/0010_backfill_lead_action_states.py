"""Fill LeadActionState from the engagements recorded before it existed, in one set-based statement.

The SQL is frozen here as `action_engine/services/lead_states.py: lead_action_states_rebuild_sql` wrote it
when this migration was made (pipelines included), so that later changes to that code or table leave this
migration as it ran. `manage.py rebuild_lead_action_states` does the same later, in batches.
"""
from django.db import migrations

POSTGRESQL = """
            INSERT INTO action_engine_leadactionstate (
                company_id, action_company_id, lead_id, stage, stage_rank, previous_stage, sent_at, opened_at, submitted_at, downloaded_at, purchased_at,
                first_engaged_at, last_engaged_at, last_engagement_id, engagement_count, utm_source, last_fingerprint
            )
            SELECT g.company_id, g.action_company_id, g.lead_id, CASE WHEN g.system = 'forms' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'forms' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'forms' AND g.stage_rank = 2 THEN 'submitted' WHEN g.system = 'commerce' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'commerce' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'commerce' AND g.stage_rank = 2 THEN 'purchased' WHEN g.system = 'content' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'content' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'content' AND g.stage_rank = 2 THEN 'downloaded' END, g.stage_rank,
                   last.previous_stage, g.sent_at, g.opened_at, g.submitted_at, g.downloaded_at, g.purchased_at, g.first_engaged_at, g.last_engaged_at,
                   g.last_engagement_id, g.engagement_count,
                   COALESCE((SELECT CASE WHEN jsonb_typeof(u.meta -> 'utm_source') = 'string' AND u.meta ->> 'utm_source' <> '' THEN SUBSTR(u.meta ->> 'utm_source', 1, 200) END FROM action_engine_engagement u
                              WHERE u.action_company_id = g.action_company_id AND u.lead_id = g.lead_id
                                AND CASE WHEN jsonb_typeof(u.meta -> 'utm_source') = 'string' AND u.meta ->> 'utm_source' <> '' THEN SUBSTR(u.meta ->> 'utm_source', 1, 200) END IS NOT NULL
                              ORDER BY u.id LIMIT 1), ''),
                   last.request_fingerprint
              FROM (
                SELECT e.company_id, e.action_company_id, e.lead_id, sys.slug AS system,
                       MAX(CASE WHEN sys.slug = 'forms' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'forms' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'forms' AND e.stage = 'submitted' THEN 2 WHEN sys.slug = 'commerce' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'commerce' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'commerce' AND e.stage = 'purchased' THEN 2 WHEN sys.slug = 'content' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'content' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'content' AND e.stage = 'downloaded' THEN 2 END) AS stage_rank,
                       MIN(CASE WHEN e.stage = 'sent' THEN e.created_at END) AS sent_at,
    MIN(CASE WHEN e.stage = 'opened' THEN e.created_at END) AS opened_at,
    MIN(CASE WHEN e.stage = 'submitted' THEN e.created_at END) AS submitted_at,
    MIN(CASE WHEN e.stage = 'downloaded' THEN e.created_at END) AS downloaded_at,
    MIN(CASE WHEN e.stage = 'purchased' THEN e.created_at END) AS purchased_at,
                       MIN(e.created_at) AS first_engaged_at, MAX(e.created_at) AS last_engaged_at,
                       MAX(e.id) AS last_engagement_id, COUNT(*) AS engagement_count
                  FROM action_engine_engagement e
                  JOIN action_engine_actioncompany ac ON ac.id = e.action_company_id
                  JOIN action_engine_action a ON a.id = ac.action_id
                  JOIN action_engine_actionsystem sys ON sys.id = a.system_id
                 WHERE (TRUE) AND (CASE WHEN sys.slug = 'forms' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'forms' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'forms' AND e.stage = 'submitted' THEN 2 WHEN sys.slug = 'commerce' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'commerce' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'commerce' AND e.stage = 'purchased' THEN 2 WHEN sys.slug = 'content' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'content' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'content' AND e.stage = 'downloaded' THEN 2 END) IS NOT NULL
                 GROUP BY e.company_id, e.action_company_id, e.lead_id, sys.slug
              ) g
              JOIN action_engine_engagement last ON last.id = g.last_engagement_id
"""

SQLITE = """
            INSERT INTO action_engine_leadactionstate (
                company_id, action_company_id, lead_id, stage, stage_rank, previous_stage, sent_at, opened_at, submitted_at, downloaded_at, purchased_at,
                first_engaged_at, last_engaged_at, last_engagement_id, engagement_count, utm_source, last_fingerprint
            )
            SELECT g.company_id, g.action_company_id, g.lead_id, CASE WHEN g.system = 'forms' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'forms' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'forms' AND g.stage_rank = 2 THEN 'submitted' WHEN g.system = 'commerce' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'commerce' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'commerce' AND g.stage_rank = 2 THEN 'purchased' WHEN g.system = 'content' AND g.stage_rank = 0 THEN 'sent' WHEN g.system = 'content' AND g.stage_rank = 1 THEN 'opened' WHEN g.system = 'content' AND g.stage_rank = 2 THEN 'downloaded' END, g.stage_rank,
                   last.previous_stage, g.sent_at, g.opened_at, g.submitted_at, g.downloaded_at, g.purchased_at, g.first_engaged_at, g.last_engaged_at,
                   g.last_engagement_id, g.engagement_count,
                   COALESCE((SELECT CASE WHEN json_type(u.meta, '$.utm_source') = 'text' AND json_extract(u.meta, '$.utm_source') <> '' THEN SUBSTR(json_extract(u.meta, '$.utm_source'), 1, 200) END FROM action_engine_engagement u
                              WHERE u.action_company_id = g.action_company_id AND u.lead_id = g.lead_id
                                AND CASE WHEN json_type(u.meta, '$.utm_source') = 'text' AND json_extract(u.meta, '$.utm_source') <> '' THEN SUBSTR(json_extract(u.meta, '$.utm_source'), 1, 200) END IS NOT NULL
                              ORDER BY u.id LIMIT 1), ''),
                   last.request_fingerprint
              FROM (
                SELECT e.company_id, e.action_company_id, e.lead_id, sys.slug AS system,
                       MAX(CASE WHEN sys.slug = 'forms' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'forms' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'forms' AND e.stage = 'submitted' THEN 2 WHEN sys.slug = 'commerce' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'commerce' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'commerce' AND e.stage = 'purchased' THEN 2 WHEN sys.slug = 'content' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'content' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'content' AND e.stage = 'downloaded' THEN 2 END) AS stage_rank,
                       MIN(CASE WHEN e.stage = 'sent' THEN e.created_at END) AS sent_at,
    MIN(CASE WHEN e.stage = 'opened' THEN e.created_at END) AS opened_at,
    MIN(CASE WHEN e.stage = 'submitted' THEN e.created_at END) AS submitted_at,
    MIN(CASE WHEN e.stage = 'downloaded' THEN e.created_at END) AS downloaded_at,
    MIN(CASE WHEN e.stage = 'purchased' THEN e.created_at END) AS purchased_at,
                       MIN(e.created_at) AS first_engaged_at, MAX(e.created_at) AS last_engaged_at,
                       MAX(e.id) AS last_engagement_id, COUNT(*) AS engagement_count
                  FROM action_engine_engagement e
                  JOIN action_engine_actioncompany ac ON ac.id = e.action_company_id
                  JOIN action_engine_action a ON a.id = ac.action_id
                  JOIN action_engine_actionsystem sys ON sys.id = a.system_id
                 WHERE (1) AND (CASE WHEN sys.slug = 'forms' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'forms' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'forms' AND e.stage = 'submitted' THEN 2 WHEN sys.slug = 'commerce' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'commerce' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'commerce' AND e.stage = 'purchased' THEN 2 WHEN sys.slug = 'content' AND e.stage = 'sent' THEN 0 WHEN sys.slug = 'content' AND e.stage = 'opened' THEN 1 WHEN sys.slug = 'content' AND e.stage = 'downloaded' THEN 2 END) IS NOT NULL
                 GROUP BY e.company_id, e.action_company_id, e.lead_id, sys.slug
              ) g
              JOIN action_engine_engagement last ON last.id = g.last_engagement_id
"""


def backfill(apps, schema_editor):
    sql = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM action_engine_leadactionstate")
        cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("action_engine", "0009_lead_action_state_previous_stage_and_fingerprint")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
