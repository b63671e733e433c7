"""Create the coming months' partitions of every partitioned table (the daily schedule runs the same)."""
from django.core.management.base import BaseCommand

from salesassist.core.partitions import partitions_ensure_scheduled


class Command(BaseCommand):
    help = "Create the partitions of the next PARTITION_MONTHS_AHEAD months for each partitioned table (PostgreSQL)."

    def handle(self, *args, **options):
        for table, created in partitions_ensure_scheduled().items():
            self.stdout.write(f"{table}: {', '.join(created) if created else 'nothing to create'}")
