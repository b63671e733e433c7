"""Replaying from outside the API: stored inbound calls that failed (or were cut off mid-processing) are
processed again, one by one, by their app's replay service, from the management command both receivers'
replays share or from the admin's action."""

from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from ..exceptions import DomainError
from .models import InboundOutcome


class StoredCallReplays:
    """What a replay front end (this command, the admin's action) asks of its app's services."""

    def is_replayable(self, stored) -> bool:
        raise NotImplementedError

    def replay(self, stored):
        """Replay one stored call through its service; return the stored row with its new outcome."""
        raise NotImplementedError


class ReplayStoredCallsCommand(StoredCallReplays, BaseCommand):
    """A subclass names the stored-call model, what its rows are called, and its app's services."""

    model = None  # an InboundCall model with a receiver
    noun = "call"

    def add_arguments(self, parser):
        # type=UUID: a mistyped uuid is a usage error, not a traceback from the query.
        parser.add_argument("uuids", nargs="*", type=UUID, help=f"{self.noun} uuids (default: every replayable one).")
        parser.add_argument("--receiver", type=UUID, help=f"Only the {self.noun}s to this receiver uuid.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many (default 1000).")
        parser.add_argument("--dry-run", action="store_true", help="List them, replay nothing.")

    def handle(self, *args, uuids, receiver, limit, dry_run, **options):
        queryset = self.model.objects.order_by("created_at", "id")
        if uuids:
            queryset = queryset.filter(uuid__in=uuids)
        else:
            queryset = queryset.filter(outcome__in=[InboundOutcome.FAILED, InboundOutcome.RECEIVED])
        if receiver:
            queryset = queryset.filter(receiver__uuid=receiver)
        candidates = [stored for stored in queryset[:limit] if self.is_replayable(stored)]
        if uuids and len(candidates) < len(set(uuids)):
            raise CommandError(f"Some of the named {self.noun}s do not exist or cannot be replayed.")
        counts = {InboundOutcome.PROCESSED: 0, InboundOutcome.FAILED: 0, "skipped": 0}
        errors = 0
        for stored in candidates:
            if dry_run:
                arrived = f"{stored.created_at:%Y-%m-%d %H:%M:%S}"
                self.stdout.write(f"would replay {stored.uuid} ({stored.outcome}, {arrived})")
                continue
            try:
                replayed = self.replay(stored)
            except DomainError as exc:
                # Replayed meanwhile by someone else (the admin, the API): not an error here.
                counts["skipped"] += 1
                self.stdout.write(f"skipped {stored.uuid}: {exc.detail}")
                continue
            except Exception as exc:
                # One our code cannot process must not stop the replay of the others behind it.
                errors += 1
                self.stderr.write(f"error {stored.uuid}: {exc.__class__.__name__}: {exc}")
                continue
            counts[replayed.outcome] += 1
            detail = f": {replayed.error['detail']}" if replayed.error else ""
            self.stdout.write(f"{replayed.outcome} {stored.uuid}{detail}")
        if not dry_run:
            processed, failed = counts[InboundOutcome.PROCESSED], counts[InboundOutcome.FAILED]
            self.stdout.write(f"{processed} processed, {failed} failed, {counts['skipped']} skipped")
        if errors:
            raise CommandError(f"{errors} {self.noun}(s) could not be replayed because of an error on our side.")
