"""Replay failed (or interrupted) lead receiver attempts."""

from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from crm.models import LeadReceiverAttempt
from crm.services import lead_receiver_attempt_is_replayable, lead_receiver_attempt_replay
from salesassist.core.exceptions import DomainError

Outcome = LeadReceiverAttempt.Outcome


class Command(BaseCommand):
    help = "Replay failed lead receiver attempts: all of them, those of one receiver, or the attempts named by uuid."

    def add_arguments(self, parser):
        # type=UUID: a mistyped uuid is a usage error, not a traceback from the query.
        parser.add_argument("attempts", nargs="*", type=UUID, help="Attempt uuids (default: every replayable attempt).")
        parser.add_argument("--receiver", type=UUID, help="Only attempts of this lead receiver uuid.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many attempts (default 1000).")
        parser.add_argument("--dry-run", action="store_true", help="List the attempts, replay nothing.")

    def handle(self, *args, attempts, receiver, limit, dry_run, **options):
        queryset = LeadReceiverAttempt.objects.order_by("created_at", "id")
        if attempts:
            queryset = queryset.filter(uuid__in=attempts)
        else:
            queryset = queryset.filter(outcome__in=[Outcome.FAILED, Outcome.RECEIVED])
        if receiver:
            queryset = queryset.filter(receiver__uuid=receiver)
        candidates = [attempt for attempt in queryset[:limit] if lead_receiver_attempt_is_replayable(attempt=attempt)]
        if attempts and len(candidates) < len(set(attempts)):
            raise CommandError("Some of the named attempts do not exist or cannot be replayed.")
        counts = {Outcome.PROCESSED: 0, Outcome.FAILED: 0, "skipped": 0}
        errors = 0
        for attempt in candidates:
            if dry_run:
                self.stdout.write(
                    f"would replay {attempt.uuid} ({attempt.outcome}, {attempt.created_at:%Y-%m-%d %H:%M:%S})"
                )
                continue
            try:
                replayed = lead_receiver_attempt_replay(attempt=attempt)
            except DomainError as exc:
                # Replayed meanwhile by someone else (the admin, the API): not an error here.
                counts["skipped"] += 1
                self.stdout.write(f"skipped {attempt.uuid}: {exc.detail}")
                continue
            except Exception as exc:
                # One attempt our code cannot process must not stop the replay of the others behind it.
                errors += 1
                self.stderr.write(f"error {attempt.uuid}: {exc.__class__.__name__}: {exc}")
                continue
            outcome = replayed.attempt.outcome
            counts[outcome] += 1
            detail = f": {replayed.attempt.error['detail']}" if replayed.attempt.error else ""
            self.stdout.write(f"{outcome} {attempt.uuid}{detail}")
        if not dry_run:
            self.stdout.write(
                f"{counts[Outcome.PROCESSED]} processed, {counts[Outcome.FAILED]} failed, {counts['skipped']} skipped"
            )
        if errors:
            raise CommandError(f"{errors} attempt(s) could not be replayed because of an error on our side.")
