"""Domain events: how a lower domain lets higher ones react without importing them."""
import pytest

from action_engine.events import engagement_recorded
from products.events import content_deleting, product_deleting
from salesassist.core.events import DomainEvent
from workflows.services import engagement_fanout


def test_subscribers_run_in_order_with_the_payload_and_once_each():
    event = DomainEvent("thing.happened")
    calls = []

    def first(**payload):
        calls.append(("first", payload))

    def second(**payload):
        calls.append(("second", payload))

    event.subscribe(first)
    event.subscribe(second)
    event.subscribe(first)
    event.emit(thing=1)
    assert calls == [("first", {"thing": 1}), ("second", {"thing": 1})]
    event.unsubscribe(first)
    event.emit(thing=2)
    assert calls[-1] == ("second", {"thing": 2}) and len(calls) == 3


def test_a_subscriber_that_raises_stops_the_emit():
    event = DomainEvent("thing.refused")
    calls = []

    def refuse(**payload):
        raise ValueError("no")

    event.subscribe(refuse)
    event.subscribe(lambda **payload: calls.append(payload))
    with pytest.raises(ValueError):
        event.emit(thing=1)
    assert calls == []


def test_the_apps_subscribe_at_startup():
    # workflows delivers what the engine records; the engine keeps what its pages show from being deleted.
    assert engagement_fanout in engagement_recorded.subscribers
    assert product_deleting.subscribers and content_deleting.subscribers
