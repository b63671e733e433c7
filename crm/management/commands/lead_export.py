"""Write everything held about a lead as one JSON document, to stdout or a file, in constant memory."""
import uuid

from django.core.management.base import BaseCommand, CommandError

from crm.models import Lead
from crm.services import lead_export_chunks


def lead_for_uuid(value: str) -> Lead:
    """Any lead, deleted or erased ones included, by its uuid."""
    try:
        lead_uuid = uuid.UUID(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a uuid.") from exc
    lead = Lead.all_objects.select_related("company", "owner").filter(uuid=lead_uuid).first()
    if lead is None:
        raise CommandError(f"No lead has the uuid {value}.")
    return lead


class Command(BaseCommand):
    help = "Export everything held about a lead (the lead, visitors, engagements, calls, deliveries) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("uuid", help="The lead's uuid.")
        parser.add_argument("--output", help="A file to write (default: stdout).")

    def handle(self, *args, uuid: str, output: str | None, **options):
        lead = lead_for_uuid(uuid)
        if output is None:
            for chunk in lead_export_chunks(lead=lead):
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", encoding="utf-8") as file:
            for chunk in lead_export_chunks(lead=lead):
                file.write(chunk)
        self.stderr.write(f"Wrote lead {lead.uuid} to {output}.")
