"""Erase a lead's personal data everywhere it is stored, with an audit entry (crm/services/lead_lifecycle.py)."""
import json

from django.core.management.base import BaseCommand

from crm.services import lead_erase, lead_erasure_document

from .lead_export import lead_for_uuid


class Command(BaseCommand):
    help = "Erase a lead's personal data everywhere (one transaction); erasing again answers the first erasure."

    def add_arguments(self, parser):
        parser.add_argument("uuid", help="The lead's uuid.")

    def handle(self, *args, uuid: str, **options):
        erasure, erased_now = lead_erase(lead=lead_for_uuid(uuid))
        self.stderr.write("Erased." if erased_now else f"Already erased at {erasure.erased_at.isoformat()}; nothing changed.")
        self.stdout.write(json.dumps(lead_erasure_document(erasure), default=str, sort_keys=True))
