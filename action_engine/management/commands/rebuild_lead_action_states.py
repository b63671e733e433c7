"""Recompute where each lead stands on each company action (LeadActionState) from the engagements."""

from django.core.management.base import BaseCommand, CommandError

from action_engine.services import lead_action_states_rebuild
from crm.models import Company


class Command(BaseCommand):
    help = (
        "Rebuild the lead action states from the engagements, in batches of leads, each batch in its own "
        "transaction. Idempotent: run it again at any time, also while engagements are being recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", metavar="SLUG", help="only this company's states")
        parser.add_argument("--batch-size", type=int, default=1000, help="leads per batch (default 1000)")

    def handle(self, *args, **options):
        company = None
        if options["company"]:
            company = Company.objects.filter(slug=options["company"]).first()
            if company is None:
                raise CommandError(f"No company with the slug {options['company']!r}.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        written = lead_action_states_rebuild(company=company, batch_size=options["batch_size"])
        self.stdout.write(f"Rebuilt {written} lead action state(s).")
