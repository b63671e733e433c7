"""Blank or delete what the companies' retention no longer keeps (the schedule runs the same every hour)."""
from django.core.management.base import BaseCommand

from crm.services import retention_apply


class Command(BaseCommand):
    help = "Apply every company's retention: old bodies blanked, old raw inbound calls deleted, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        report = retention_apply(dry_run=dry_run)
        verb = "would change" if dry_run else "changed"
        for name, rows in report.rows.items():
            self.stdout.write(f"{name}: {rows} rows {verb}")
