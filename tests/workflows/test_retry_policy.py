"""The retry policy, pinned row by row: (delivery, outcome, schedule) in, the delivery's changes out."""
from datetime import datetime, timedelta, timezone

import pytest

from workflows.choices import AttemptError, DeliveryStatus
from workflows.kinds import AttemptOutcome
from workflows.models import Delivery
from workflows.services import next_state

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
SCHEDULE = [0, 5, 300, 1800]
DEAD = {"status": DeliveryStatus.DEAD, "next_attempt_at": None}
SUCCEEDED = {"status": DeliveryStatus.SUCCEEDED, "succeeded_at": NOW, "next_attempt_at": None}
UNCHANGED = {}


class Jitter:
    """An rng whose uniform(a, b) is always the same point of the range: 0 its low end, 1 its high end."""

    def __init__(self, at: float):
        self.at = at

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.at


def failed_in(seconds: float) -> dict:
    return {"status": DeliveryStatus.FAILED, "next_attempt_at": NOW + timedelta(seconds=seconds)}


def http(status: int, **flags) -> AttemptOutcome:
    return AttemptOutcome(succeeded=False, response_status=status, error_class=AttemptError.HTTP_STATUS, **flags)


def error(error_class: str, **flags) -> AttemptOutcome:
    return AttemptOutcome(succeeded=False, error_class=error_class, **flags)


OK = AttemptOutcome(succeeded=True, response_status=200)
GONE = http(410, gone=True)
PERMANENT = error(AttemptError.INTERNAL, permanent=True)


@pytest.mark.parametrize(
    "status, done, outcome, manual, jitter, expected",
    [
        # success, automatic or manual, from any status
        pytest.param(DeliveryStatus.PENDING, 1, OK, False, 0.5, SUCCEEDED, id="success"),
        pytest.param(DeliveryStatus.DEAD, 4, OK, True, 0.5, SUCCEEDED, id="manual-success-of-a-dead-one"),
        # a retryable failure waits the schedule's next step, jittered ±20 %
        pytest.param(DeliveryStatus.PENDING, 1, http(500), False, 0.5, failed_in(5), id="500-step-1"),
        pytest.param(DeliveryStatus.FAILED, 2, http(503), False, 0.5, failed_in(300), id="503-step-2"),
        pytest.param(DeliveryStatus.FAILED, 3, http(500), False, 0.5, failed_in(1800), id="500-step-3"),
        pytest.param(DeliveryStatus.FAILED, 2, http(500), False, 0.0, failed_in(240), id="jitter-low-end"),
        pytest.param(DeliveryStatus.FAILED, 2, http(500), False, 1.0, failed_in(360), id="jitter-high-end"),
        pytest.param(DeliveryStatus.PENDING, 0, http(500), False, 0.5, failed_in(0), id="step-0"),
        # client errors, refused targets and connection errors are retried like any failure
        pytest.param(DeliveryStatus.FAILED, 2, http(400), False, 0.5, failed_in(300), id="400-is-retried"),
        pytest.param(DeliveryStatus.FAILED, 2, http(404), False, 0.5, failed_in(300), id="404-is-retried"),
        pytest.param(
            DeliveryStatus.FAILED, 1, error(AttemptError.BLOCKED_TARGET), False, 0.5, failed_in(5), id="blocked-target"
        ),
        pytest.param(DeliveryStatus.FAILED, 1, error(AttemptError.DNS), False, 0.5, failed_in(5), id="dns"),
        pytest.param(
            DeliveryStatus.FAILED, 1, error(AttemptError.CONNECTION), False, 0.5, failed_in(5), id="connection"
        ),
        # the last step used: dead
        pytest.param(DeliveryStatus.FAILED, 4, http(500), False, 0.5, DEAD, id="last-step-dead"),
        pytest.param(DeliveryStatus.FAILED, 9, http(500), False, 0.5, DEAD, id="past-the-schedule-dead"),
        # a 429 or a timeout waits at least a minute, but a longer step stays as it is
        pytest.param(DeliveryStatus.FAILED, 1, http(429, throttled=True), False, 0.5, failed_in(60), id="429-min-60"),
        pytest.param(
            DeliveryStatus.FAILED, 1, error(AttemptError.TIMEOUT, throttled=True), False, 0.5, failed_in(60),
            id="timeout-min-60",
        ),
        pytest.param(
            DeliveryStatus.FAILED, 2, http(429, throttled=True), False, 0.0, failed_in(240), id="429-longer-step"
        ),
        # Retry-After: honoured when later than the step, capped at a day, ignored when earlier
        pytest.param(
            DeliveryStatus.FAILED, 1, http(429, throttled=True, retry_after=3600), False, 0.5, failed_in(3600),
            id="retry-after-honoured",
        ),
        pytest.param(
            DeliveryStatus.FAILED, 1, http(503, retry_after=120), False, 0.5, failed_in(120), id="retry-after-on-503"
        ),
        pytest.param(
            DeliveryStatus.FAILED, 1, http(503, retry_after=365 * 86400), False, 0.5, failed_in(86400),
            id="retry-after-capped",
        ),
        pytest.param(
            DeliveryStatus.FAILED, 2, http(503, retry_after=10), False, 0.5, failed_in(300), id="retry-after-earlier"
        ),
        pytest.param(
            DeliveryStatus.FAILED, 1, http(503, retry_after=-50), False, 0.5, failed_in(5), id="retry-after-negative"
        ),
        pytest.param(
            DeliveryStatus.FAILED, 4, http(429, throttled=True, retry_after=60), False, 0.5, DEAD,
            id="retry-after-does-not-extend-the-schedule",
        ),
        # non-retryable: 410 Gone and permanent errors are dead at once, whatever is left of the schedule
        pytest.param(DeliveryStatus.PENDING, 1, GONE, False, 0.5, DEAD, id="gone"),
        pytest.param(DeliveryStatus.PENDING, 1, PERMANENT, False, 0.5, DEAD, id="permanent"),
        # manual attempts (replays): a failure leaves status and schedule alone ...
        pytest.param(DeliveryStatus.FAILED, 2, http(500), True, 0.5, UNCHANGED, id="manual-failure"),
        pytest.param(DeliveryStatus.DEAD, 4, http(500), True, 0.5, UNCHANGED, id="manual-failure-of-a-dead-one"),
        pytest.param(
            DeliveryStatus.FAILED, 1, http(429, throttled=True, retry_after=3600), True, 0.5, UNCHANGED,
            id="manual-429",
        ),
        # ... a gone or permanent one kills it, unless it had already succeeded
        pytest.param(DeliveryStatus.FAILED, 2, GONE, True, 0.5, DEAD, id="manual-gone"),
        pytest.param(DeliveryStatus.FAILED, 2, PERMANENT, True, 0.5, DEAD, id="manual-permanent"),
        pytest.param(DeliveryStatus.SUCCEEDED, 1, GONE, True, 0.5, UNCHANGED, id="manual-gone-after-success"),
        pytest.param(DeliveryStatus.SUCCEEDED, 1, PERMANENT, True, 0.5, UNCHANGED, id="manual-permanent-after-success"),
    ],
)
def test_next_state(status, done, outcome, manual, jitter, expected):
    delivery = Delivery(status=status, scheduled_attempts=done)
    changes = next_state(
        delivery=delivery, outcome=outcome, manual=manual, schedule=SCHEDULE, now=NOW, rng=Jitter(jitter)
    )
    assert changes == expected


@pytest.mark.parametrize("schedule, done", [([], 0), ([0], 1), ([0, 5], 2)])
def test_a_schedule_used_up_is_dead(schedule, done):
    delivery = Delivery(status=DeliveryStatus.FAILED, scheduled_attempts=done)
    changes = next_state(
        delivery=delivery, outcome=http(500), manual=False, schedule=schedule, now=NOW, rng=Jitter(0.5)
    )
    assert changes == DEAD


def test_the_policy_reads_nothing_but_its_arguments(settings):
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 1]
    delivery = Delivery(status=DeliveryStatus.FAILED, scheduled_attempts=2)
    changes = next_state(
        delivery=delivery, outcome=http(500), manual=False, schedule=SCHEDULE, now=NOW, rng=Jitter(0.5)
    )
    assert changes == failed_in(300)
