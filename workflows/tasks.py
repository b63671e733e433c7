"""django-q2 tasks: they take ids, call a service, and never raise (the Delivery rows own the retry state)."""
import logging

from .services import DeliveriesReleased, deliveries_attempt, deliveries_enqueue, deliveries_retry_soon, task_batch_size
from .services import deliveries_sweep as deliveries_sweep_service

logger = logging.getLogger(__name__)


def deliveries_send(delivery_ids: list[int], manual: bool = False, statuses: list[str] | None = None) -> int:
    """Attempt the deliveries that are still free and due (or, for a replay, of the given statuses)."""
    try:
        attempts = deliveries_attempt(
            delivery_ids=list(delivery_ids), manual=manual, statuses=statuses, fill_to=task_batch_size()
        )
        deliveries_retry_soon(deliveries=[attempt.delivery for attempt in attempts])
        return len(attempts)
    except DeliveriesReleased as released:
        # The worker is stopping: queued again now, another worker sends them at once.
        deliveries_enqueue(delivery_ids=released.delivery_ids, manual=manual, statuses=statuses)
        return 0
    except Exception:
        # The lease runs out and the sweeper queues the deliveries again: log, never raise.
        logger.exception("Sending deliveries %s failed", delivery_ids)
        return 0


def deliveries_sweep() -> int:
    """The every-minute schedule: queue deliveries that are due, whose worker died or whose task was lost."""
    try:
        return deliveries_sweep_service()
    except Exception:
        logger.exception("The delivery sweep failed")
        return 0
