"""Replay failed (or interrupted) company action receiver calls."""

from action_engine.models import ReceiverCall
from action_engine.services import receiver_call_is_replayable, receiver_call_replay
from salesassist.core.inbound.replay import ReplayStoredCallsCommand


class Command(ReplayStoredCallsCommand):
    help = "Replay failed receiver calls: all of them, those of one receiver, or the calls named by uuid."
    model = ReceiverCall
    noun = "call"

    def is_replayable(self, stored) -> bool:
        return receiver_call_is_replayable(receiver_call=stored)

    def replay(self, stored):
        return receiver_call_replay(receiver_call=stored).call
