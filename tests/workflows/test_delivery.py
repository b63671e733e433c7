"""Deliveries end to end in this process: real HTTP to a local sink, django-q2 in sync mode."""
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.workflows.conftest import attach_webhook, record_engagement
from tests.workflows.sink import Reply
from workflows.choices import AttemptError, DeliveryStatus
from workflows.kinds.base import RESPONSE_STORE_LIMIT
from workflows.models import Delivery, DeliveryAttempt
from workflows.services import deliveries_sweep, delivery_replay, engagement_fanout, retry_delay
from workflows.kinds.base import AttemptOutcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]


def fan_out(django_capture_on_commit_callbacks, action_company, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return record_engagement(action_company, **kwargs)


def sweep_until_settled(max_sweeps: int = 10) -> None:
    for _ in range(max_sweeps):
        if not deliveries_sweep():
            return


def verify(workflow, received):
    """The standardwebhooks package's own verification of what the sink received."""
    return Webhook(workflow.secret).verify(received.body, received.headers)


def test_three_workflows_get_three_signed_deliveries(action_company, sink, django_capture_on_commit_callbacks):
    workflows = [attach_webhook(action_company, sink.url(f"/hook/{n}")) for n in range(3)]

    engagement = fan_out(django_capture_on_commit_callbacks, action_company, body={"data": {"email": "a@b.co"}})

    received = sink.wait_for(3)
    assert sorted(r.path for r in received) == ["/hook/0", "/hook/1", "/hook/2"]
    for workflow in workflows:
        (request,) = [r for r in received if r.path == f"/hook/{workflows.index(workflow)}"]
        payload = verify(workflow, request)
        assert payload["type"] == "engagement.submitted"
        assert payload["data"]["engagement"]["uuid"] == str(engagement.uuid)
        assert payload["data"]["lead"]["uuid"] == str(engagement.lead.uuid)
        assert payload["data"]["company_action"]["uuid"] == str(action_company.uuid)
        assert payload["data"]["message"] == {"data": {"email": "a@b.co"}}
        assert request.headers["user-agent"] == "SalesAssist-Webhooks/1.0"
        assert request.headers["content-type"] == "application/json"
        with pytest.raises(Exception):  # another workflow's secret does not verify it
            Webhook(workflows[(workflows.index(workflow) + 1) % 3].secret).verify(request.body, request.headers)
    deliveries = Delivery.objects.filter(engagement=engagement)
    assert deliveries.count() == 3
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    attempt = DeliveryAttempt.objects.filter(delivery__engagement=engagement).first()
    assert attempt.request_headers["webhook-signature"] == "[redacted]"
    assert attempt.response_status == 200 and attempt.succeeded and attempt.response_body == "ok"


def test_fails_twice_then_succeeds(action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    workflow = attach_webhook(action_company, sink.url())
    sink.script(Reply(500), Reply(502, body=b"bad gateway"))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    sweep_until_settled()

    received = sink.wait_for(3)
    assert len(received) == 3
    assert len({r.headers["webhook-id"] for r in received}) == 1
    assert received[0].headers["webhook-id"] == f"msg_{delivery.uuid.hex}"
    for request in received:
        verify(workflow, request)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.response_status for a in attempts] == [500, 502, 200]
    assert [a.succeeded for a in attempts] == [False, False, True]
    assert attempts[1].response_body == "bad gateway" and attempts[1].error_class == AttemptError.HTTP_STATUS


def test_down_for_the_whole_schedule_goes_dead_then_a_replay_delivers_once(
    action_company, sink, fast_retries, django_capture_on_commit_callbacks
):
    attach_webhook(action_company, sink.url())
    sink.default = Reply(503)

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    sweep_until_settled()
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == len(fast_retries) == len(sink.requests)
    assert deliveries_sweep() == 0  # dead is not due

    sink.default = Reply(200)
    attempt = delivery_replay(delivery=delivery)
    assert attempt.is_manual and attempt.succeeded
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [r.status for r in sink.requests].count(200) == 1
    assert deliveries_sweep() == 0
    assert delivery.attempt_log.filter(succeeded=True).count() == 1


def test_a_failed_replay_is_one_attempt_not_a_new_schedule(
    action_company, sink, fast_retries, django_capture_on_commit_callbacks
):
    attach_webhook(action_company, sink.url())
    sink.default = Reply(500)
    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    sweep_until_settled()
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.DEAD

    delivery_replay(delivery=delivery)
    sweep_until_settled()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == len(fast_retries) + 1 == len(sink.requests)


def test_410_disables_the_workflow(action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    workflow = attach_webhook(action_company, sink.url())
    sink.script(Reply(410, body=b"gone"))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    workflow.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert workflow.is_active is False and "410" in workflow.pause_reason
    # a disabled workflow fires no more
    later = fan_out(django_capture_on_commit_callbacks, action_company)
    assert not Delivery.objects.filter(engagement=later).exists()
    assert len(sink.requests) == 1


def test_429_with_retry_after_is_honoured(action_company, sink, settings, django_capture_on_commit_callbacks):
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 100, 100]
    attach_webhook(action_company, sink.url())
    sink.script(Reply(429, headers={"Retry-After": "3600"}))

    before = timezone.now()
    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.FAILED
    wait = (delivery.next_attempt_at - before).total_seconds()
    # the schedule says 100 s ±20 %; the target asked for an hour: no attempt before that
    assert 3599 <= wait <= 3602
    assert deliveries_sweep() == 0  # not due yet


def test_429_waits_at_least_a_minute_and_retry_after_is_honoured_up_to_a_day():
    throttled = AttemptOutcome(succeeded=False, throttled=True)
    assert all(retry_delay(base=0, outcome=throttled) == 60 for _ in range(20))
    asks_for_a_day = AttemptOutcome(succeeded=False, throttled=True, retry_after=86400)
    assert all(retry_delay(base=0, outcome=asks_for_a_day) == 86400 for _ in range(20))
    asks_for_a_year = AttemptOutcome(succeeded=False, throttled=True, retry_after=365 * 86400)
    assert all(retry_delay(base=0, outcome=asks_for_a_year) == 86400 for _ in range(20))
    asks_for_less_than_the_schedule = AttemptOutcome(succeeded=False, retry_after=10)
    assert all(240 <= retry_delay(base=300, outcome=asks_for_less_than_the_schedule) <= 360 for _ in range(20))
    asks_for_nothing = AttemptOutcome(succeeded=False, retry_after=0)
    delays = [retry_delay(base=300, outcome=asks_for_nothing) for _ in range(200)]
    assert min(delays) >= 240 and max(delays) <= 360 and max(delays) - min(delays) > 30  # ±20 % jitter


def test_timeouts_wait_at_least_a_minute(action_company, sink, settings, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("workflows.kinds.outbound.TOTAL_TIMEOUT", 0.5)
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 5]
    attach_webhook(action_company, sink.url())
    sink.script(Reply(200, delay=3))

    before = timezone.now()
    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    attempt = delivery.attempt_log.get()
    assert attempt.error_class == AttemptError.TIMEOUT and attempt.duration_ms < 2000
    assert (delivery.next_attempt_at - before).total_seconds() >= 60


def test_redirects_are_not_followed(action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url("/old"))
    sink.script(Reply(301, headers={"Location": sink.url("/new")}))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    assert [r.path for r in sink.requests] == ["/old"]
    attempt = DeliveryAttempt.objects.get(delivery__engagement=engagement)
    assert attempt.response_status == 301 and not attempt.succeeded
    assert "not followed" in attempt.error_message
    assert Delivery.objects.get(engagement=engagement).status == DeliveryStatus.FAILED


def test_a_huge_response_is_cut(action_company, sink, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url())
    sink.script(Reply(200, body_size=50 * 1024 * 1024))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    attempt = DeliveryAttempt.objects.get(delivery__engagement=engagement)
    assert attempt.succeeded
    assert len(attempt.response_body) == RESPONSE_STORE_LIMIT
    assert attempt.duration_ms < 5000


def test_a_rolled_back_engagement_creates_no_delivery(action_company, sink, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                record_engagement(action_company)
                raise RuntimeError("the request failed after the engagement was written")
    assert callbacks == []
    assert Delivery.objects.count() == 0
    assert sink.requests == []


def test_a_task_that_was_never_queued_is_swept_up(action_company, sink, fast_retries):
    """The commit happened but the process died before it queued the task: the sweeper finds the delivery."""
    attach_webhook(action_company, sink.url())
    engagement = record_engagement(action_company)  # on_commit never runs inside the test's transaction
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.PENDING and sink.requests == []
    assert deliveries_sweep() == 0  # its task may still be in the queue: left alone for a while

    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    assert deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and len(sink.requests) == 1


def test_a_leased_delivery_is_not_sent_twice(action_company, sink, fast_retries):
    attach_webhook(action_company, sink.url())
    engagement = record_engagement(action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    Delivery.objects.filter(pk=delivery.pk).update(
        leased_until=timezone.now() + timedelta(seconds=60), enqueued_at=None
    )
    from workflows.services import deliveries_attempt

    assert deliveries_attempt(delivery_ids=[delivery.pk]) == []
    assert deliveries_sweep() == 0
    # the lease runs out (the worker died): the sweeper picks it up
    Delivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert deliveries_sweep() == 1
    assert len(sink.requests) == 1


def test_an_engagement_without_matching_workflows_writes_nothing(action_company, sink):
    attach_webhook(action_company, sink.url(), stages=["purchased"])
    engagement = record_engagement(action_company)
    assert engagement_fanout(engagement=engagement) == []
    assert Delivery.objects.count() == 0


def test_delivery_payload_is_the_same_on_every_attempt(action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    attach_webhook(action_company, sink.url())
    sink.script(Reply(500))
    fan_out(django_capture_on_commit_callbacks, action_company)
    sweep_until_settled()
    first, second = sink.wait_for(2)
    assert first.body == second.body
    assert json.loads(first.body)["timestamp"]


def test_custom_headers_are_sent_and_secrets_in_them_never_logged(action_company, sink, django_capture_on_commit_callbacks):
    attach_webhook(
        action_company,
        sink.url(),
        config={"headers": {"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "X-Team": "sales"}},
    )
    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    (request,) = sink.requests
    assert request.headers["authorization"] == "Bearer s3cret" and request.headers["x-api-key"] == "k3y"
    attempt = DeliveryAttempt.objects.get(delivery__engagement=engagement)
    assert attempt.request_headers["Authorization"] == "[redacted]"
    assert attempt.request_headers["X-Api-Key"] == "[redacted]"
    assert attempt.request_headers["X-Team"] == "[redacted]"  # every configured header's value
    assert "s3cret" not in str(attempt.request_headers) and "k3y" not in str(attempt.request_headers)


def test_a_batch_task_also_takes_other_due_deliveries(action_company, sink, settings):
    """Under a backlog one task sends a whole batch; the tasks queued for the others find nothing to do."""
    from workflows.services import deliveries_attempt

    attach_webhook(action_company, sink.url())
    engagements = [record_engagement(action_company) for _ in range(4)]
    first = engagements[0].deliveries.get()
    attempts = deliveries_attempt(delivery_ids=[first.pk], fill_to=3)
    assert [a.delivery_id for a in attempts][0] == first.pk and len(attempts) == 3
    assert len(sink.requests) == 3
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    # its own delivery is done: the task still takes what is due, then finds nothing left
    (last,) = deliveries_attempt(delivery_ids=[first.pk], fill_to=1)
    assert last.delivery_id != first.pk and len(sink.requests) == 4
    assert deliveries_attempt(delivery_ids=[first.pk], fill_to=48) == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_a_nul_byte_in_the_answer_is_stored_escaped_and_sent_once(action_company, sink, fast_retries, django_capture_on_commit_callbacks):
    """PostgreSQL refuses NUL in text and jsonb: the attempt must still be stored and the delivery finished."""
    attach_webhook(action_company, sink.url())
    sink.script(Reply(200, body=b"ok\x00"))

    engagement = fan_out(django_capture_on_commit_callbacks, action_company)
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.leased_until is None
    attempt = delivery.attempt_log.get()
    assert attempt.succeeded and attempt.response_body == "ok\\u0000"
    sweep_until_settled()
    assert len(sink.requests) == 1


def test_nul_bytes_anywhere_in_an_outcome_are_stored(action_company, fast_retries, monkeypatch):
    from workflows.kinds.webhook import WebhookKind
    from workflows.services import deliveries_attempt

    def send(self, prepared):
        return AttemptOutcome(
            succeeded=False,
            request_url="http://example.com/\x00",
            request_headers={"X-A\x00": "v\x00"},
            request_body="{\x00}",
            response_status=500,
            response_headers={"x-b\x00": "w\x00", "x-list": ["\x00"]},
            response_body="bad\x00",
            error_class=AttemptError.HTTP_STATUS,
            error_message="boom\x00",
        )

    monkeypatch.setattr(WebhookKind, "send", send)
    attach_webhook(action_company, "http://127.0.0.1:9/hook")
    engagement = record_engagement(action_company)
    (attempt,) = deliveries_attempt(delivery_ids=list(engagement.deliveries.values_list("id", flat=True)))
    stored = DeliveryAttempt.objects.get(pk=attempt.pk)
    assert stored.request_headers == {"X-A\\u0000": "v\\u0000"}
    assert stored.response_headers == {"x-b\\u0000": "w\\u0000", "x-list": ["\\u0000"]}
    assert (stored.request_body, stored.response_body, stored.error_message) == ("{\\u0000}", "bad\\u0000", "boom\\u0000")
    delivery = Delivery.objects.get(engagement=engagement)
    assert delivery.status == DeliveryStatus.FAILED and delivery.leased_until is None
    assert "\x00" not in delivery.last_error and "boom\\u0000" in delivery.last_error
