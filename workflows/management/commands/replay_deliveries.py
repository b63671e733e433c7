"""manage.py replay_deliveries: one manual attempt of chosen deliveries, or of a workflow's failures since a time."""
import uuid
from datetime import timezone as dt_timezone

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from workflows.choices import DeliveryStatus
from workflows.models import Delivery, Workflow
from workflows.selectors import deliveries_recoverable_ids
from workflows.services import deliveries_attempt, deliveries_enqueue


class Command(BaseCommand):
    help = (
        "Attempt deliveries once more, now: --delivery UUID (repeatable), or --workflow UUID --since TIME for "
        "every failed or dead delivery of that workflow created since then. A replay is one attempt; it does not "
        "restart a delivery's retry schedule. Sends from this process unless --queue is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delivery", action="append", default=[], metavar="UUID", help="A delivery's uuid.")
        parser.add_argument("--workflow", metavar="UUID", help="A workflow's uuid (with --since).")
        parser.add_argument("--since", metavar="TIME", help="ISO 8601, e.g. 2026-11-01T00:00:00Z.")
        parser.add_argument(
            "--queue", action="store_true", help="Queue the attempts for the workers instead of sending here."
        )

    def handle(self, *args, delivery, workflow, since, queue, **options):
        if bool(delivery) == bool(workflow):
            raise CommandError("Give either --delivery UUID (one or more) or --workflow UUID --since TIME.")
        statuses = None
        if delivery:
            wanted = [_parse_uuid(value, "delivery") for value in delivery]
            found = dict(Delivery.objects.filter(uuid__in=wanted).values_list("uuid", "id"))
            missing = [str(value) for value in wanted if value not in found]
            if missing:
                raise CommandError(f"No such delivery: {', '.join(missing)}")
            delivery_ids = list(found.values())
        else:
            when = parse_datetime(since or "")
            if when is None:
                raise CommandError("--since needs an ISO 8601 time, e.g. 2026-11-01T00:00:00Z.")
            if timezone.is_naive(when):
                when = timezone.make_aware(when, dt_timezone.utc)
            target = Workflow.all_objects.filter(uuid=_parse_uuid(workflow, "workflow")).first()
            if target is None:
                raise CommandError(f"No such workflow: {workflow}")
            delivery_ids = deliveries_recoverable_ids(workflow=target, since=when)
            statuses = [DeliveryStatus.FAILED, DeliveryStatus.DEAD]
        if queue:
            queued = deliveries_enqueue(delivery_ids=delivery_ids, manual=True, statuses=statuses)
            self.stdout.write(f"Queued {queued} deliveries for one manual attempt each.")
            return
        succeeded = failed = 0
        for start in range(0, len(delivery_ids), 10):
            for attempt in deliveries_attempt(delivery_ids=delivery_ids[start : start + 10], manual=True, statuses=statuses):
                if attempt.succeeded:
                    succeeded += 1
                else:
                    failed += 1
                    self.stdout.write(f"  {attempt.delivery.uuid}: {attempt.error_class} {attempt.error_message}")
        skipped = len(delivery_ids) - succeeded - failed
        self.stdout.write(
            f"Replayed {succeeded + failed} deliveries: {succeeded} succeeded, {failed} failed"
            + (f", {skipped} skipped (being sent right now)." if skipped else ".")
        )


def _parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise CommandError(f"Not a {what} uuid: {value}") from exc
