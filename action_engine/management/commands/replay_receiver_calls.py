"""Replay failed (or interrupted) company action receiver calls."""

from django.core.management.base import BaseCommand, CommandError

from action_engine.choices import ReceiverCallOutcome
from action_engine.models import ReceiverCall
from action_engine.services import receiver_call_is_replayable, receiver_call_replay
from salesassist.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Replay failed receiver calls: all of them, those of one receiver, or the calls named by uuid."

    def add_arguments(self, parser):
        parser.add_argument("calls", nargs="*", help="Receiver call uuids (default: every replayable call).")
        parser.add_argument("--receiver", help="Only calls to this receiver uuid.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many calls (default 1000).")
        parser.add_argument("--dry-run", action="store_true", help="List the calls, replay nothing.")

    def handle(self, *args, calls, receiver, limit, dry_run, **options):
        queryset = ReceiverCall.objects.select_related("receiver").order_by("created_at", "id")
        if calls:
            queryset = queryset.filter(uuid__in=calls)
        else:
            queryset = queryset.filter(outcome__in=[ReceiverCallOutcome.FAILED, ReceiverCallOutcome.RECEIVED])
        if receiver:
            queryset = queryset.filter(receiver__uuid=receiver)
        candidates = [call for call in queryset[:limit] if receiver_call_is_replayable(receiver_call=call)]
        if calls and len(candidates) < len(set(calls)):
            raise CommandError("Some of the named calls do not exist or cannot be replayed.")
        counts = {ReceiverCallOutcome.PROCESSED: 0, ReceiverCallOutcome.FAILED: 0, "skipped": 0}
        errors = 0
        for call in candidates:
            if dry_run:
                self.stdout.write(f"would replay {call.uuid} ({call.outcome}, {call.created_at:%Y-%m-%d %H:%M:%S})")
                continue
            try:
                handled = receiver_call_replay(receiver_call=call)
            except DomainError as exc:
                # Replayed meanwhile by someone else (the admin, the API): not an error here.
                counts["skipped"] += 1
                self.stdout.write(f"skipped {call.uuid}: {exc.detail}")
                continue
            except Exception as exc:
                # One call our code cannot process must not stop the replay of the others behind it.
                errors += 1
                self.stderr.write(f"error {call.uuid}: {exc.__class__.__name__}: {exc}")
                continue
            counts[handled.call.outcome] += 1
            detail = f": {handled.call.error['detail']}" if handled.call.error else ""
            self.stdout.write(f"{handled.call.outcome} {call.uuid}{detail}")
        if not dry_run:
            self.stdout.write(
                f"{counts[ReceiverCallOutcome.PROCESSED]} processed, {counts[ReceiverCallOutcome.FAILED]} failed, "
                f"{counts['skipped']} skipped"
            )
        if errors:
            raise CommandError(f"{errors} call(s) could not be replayed because of an error on our side.")
