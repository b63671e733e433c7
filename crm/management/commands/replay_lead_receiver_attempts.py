"""Replay failed (or interrupted) lead receiver attempts."""

from crm.models import LeadReceiverAttempt
from crm.services import lead_receiver_attempt_is_replayable, lead_receiver_attempt_replay
from salesassist.core.inbound.replay import ReplayStoredCallsCommand


class Command(ReplayStoredCallsCommand):
    help = "Replay failed lead receiver attempts: all of them, those of one receiver, or the attempts named by uuid."
    model = LeadReceiverAttempt
    noun = "attempt"

    def is_replayable(self, stored) -> bool:
        return lead_receiver_attempt_is_replayable(attempt=stored)

    def replay(self, stored):
        return lead_receiver_attempt_replay(attempt=stored).attempt
