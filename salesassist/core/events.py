"""Domain events: how a lower domain lets higher ones react without importing them.

A domain declares its events (`engagement_recorded = DomainEvent("engagement.recorded")`) and emits them
inside the transaction of the change; a higher app subscribes in its `AppConfig.ready()`. Subscribers run
in that transaction, in the order they subscribed, so what they write commits or rolls back with the
change, and an exception in one rolls the change back. Not Django signals: the subscribers of an event
are listed in one place and a test can see them.
"""
from collections.abc import Callable


class DomainEvent:
    """One kind of event and its subscribers."""

    def __init__(self, name: str):
        self.name = name
        self._subscribers: list[Callable[..., object]] = []

    def __repr__(self) -> str:
        return f"DomainEvent({self.name!r})"

    @property
    def subscribers(self) -> tuple[Callable[..., object], ...]:
        return tuple(self._subscribers)

    def subscribe(self, callback: Callable[..., object]) -> Callable[..., object]:
        """Call `callback(**payload)` on every emit; subscribing the same callback twice keeps one."""
        if callback not in self._subscribers:
            self._subscribers.append(callback)
        return callback

    def unsubscribe(self, callback: Callable[..., object]) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def emit(self, **payload) -> None:
        """Call every subscriber with the payload, in the caller's transaction."""
        for callback in self.subscribers:
            callback(**payload)
