"""The retry policy: what an attempt's outcome does to its delivery, as a pure function of its inputs."""
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..choices import DeliveryStatus
from ..kinds import AttemptOutcome
from ..models import Delivery
from ..transport import RETRY_AFTER_MAX

THROTTLED_MIN_DELAY = 60.0
JITTER = 0.2


def retry_delay(*, base: float, outcome: AttemptOutcome, rng: random.Random | None = None) -> float:
    """Seconds until the next automatic attempt: the schedule's delay ±20 %, at least a minute after a 429
    or a timeout, and never earlier than the target's Retry-After (which counts up to RETRY_AFTER_MAX)."""
    rng = rng or random
    delay = base * rng.uniform(1 - JITTER, 1 + JITTER)
    if outcome.throttled:
        delay = max(delay, THROTTLED_MIN_DELAY)
    if outcome.retry_after is not None:
        delay = max(delay, min(max(0.0, outcome.retry_after), RETRY_AFTER_MAX))
    return delay


def next_state(
    *,
    delivery: Delivery,
    outcome: AttemptOutcome,
    manual: bool,
    schedule: Sequence[float],
    now: datetime,
    rng: random.Random,
) -> dict:
    """The delivery's new status and next attempt after this outcome (the fields to change; none for no change).

    `schedule` holds the seconds before each automatic attempt; `delivery.scheduled_attempts` counts the
    automatic attempts made, this one included, so once it reaches the end of the schedule the delivery is dead.
    """
    if outcome.succeeded:
        return {"status": DeliveryStatus.SUCCEEDED, "succeeded_at": now, "next_attempt_at": None}
    if outcome.gone or outcome.permanent:
        if manual and delivery.status == DeliveryStatus.SUCCEEDED:
            return {}
        return {"status": DeliveryStatus.DEAD, "next_attempt_at": None}
    if manual:
        return {}  # a replay is one extra attempt: the delivery keeps its status and schedule
    done = delivery.scheduled_attempts
    if done >= len(schedule):
        return {"status": DeliveryStatus.DEAD, "next_attempt_at": None}
    delay = retry_delay(base=schedule[done], outcome=outcome, rng=rng)
    return {"status": DeliveryStatus.FAILED, "next_attempt_at": now + timedelta(seconds=delay)}
