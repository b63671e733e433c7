"""A visitor's lead must belong to the visitor's company, enforced by the database.

Django has no composite foreign keys, so a trigger does it (one per database vendor we run on).
"""
from django.db import migrations

MESSAGE = "crm_visitor: the lead belongs to another company"

POSTGRES_FORWARD = f"""
CREATE FUNCTION crm_visitor_lead_same_company() RETURNS trigger AS $$
BEGIN
  IF NEW.lead_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM crm_lead WHERE id = NEW.lead_id AND company_id = NEW.company_id
  ) THEN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER crm_visitor_lead_same_company BEFORE INSERT OR UPDATE OF lead_id, company_id ON crm_visitor
  FOR EACH ROW EXECUTE FUNCTION crm_visitor_lead_same_company();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS crm_visitor_lead_same_company ON crm_visitor;
DROP FUNCTION IF EXISTS crm_visitor_lead_same_company();
"""

SQLITE_CHECK = f"""
WHEN NEW.lead_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM crm_lead WHERE id = NEW.lead_id AND company_id = NEW.company_id)
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER crm_visitor_lead_same_company_insert BEFORE INSERT ON crm_visitor {SQLITE_CHECK}",
    f"CREATE TRIGGER crm_visitor_lead_same_company_update BEFORE UPDATE OF lead_id, company_id ON crm_visitor "
    f"{SQLITE_CHECK}",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS crm_visitor_lead_same_company_insert",
    "DROP TRIGGER IF EXISTS crm_visitor_lead_same_company_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": [POSTGRES_REVERSE], "sqlite": SQLITE_REVERSE}),
        )
    ]
