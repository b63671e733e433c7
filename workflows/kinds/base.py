"""What every workflow kind provides, and what one attempt of it reports."""
from dataclasses import dataclass, field
from typing import Any

RESPONSE_STORE_LIMIT = 16 * 1024
REQUEST_BODY_STORE_LIMIT = 16 * 1024
REDACTED = "[redacted]"


@dataclass
class AttemptOutcome:
    """One attempt's result: what was sent (redacted for the log, exact for test mode) and what came back."""

    succeeded: bool
    request_url: str = ""
    request_headers: dict = field(default_factory=dict)  # redacted: this goes to the log
    request_body: str = ""
    exact_request: dict = field(default_factory=dict)  # unredacted: only test mode shows it
    response_status: int | None = None
    response_headers: dict = field(default_factory=dict)
    response_body: str = ""
    duration_ms: int = 0
    error_class: str = ""
    error_message: str = ""
    retry_after: float | None = None  # seconds the target asked us to wait (Retry-After)
    throttled: bool = False  # a 429 or a timeout: wait at least a minute before the next try
    gone: bool = False  # 410: the target is gone for good; the workflow is disabled
    permanent: bool = False  # no retry can help (e.g. an email with no recipient)


class WorkflowKindHandler:
    """A workflow kind: validates its config, prepares a send (may read the database), sends (must not)."""

    kind: str = ""
    signed: bool = False  # its deliveries carry Standard Webhooks signatures: the workflow gets a secret

    def config_validate(self, config: Any) -> dict:
        """The config, cleaned; raises InvalidInput with `config.<key>` errors."""
        raise NotImplementedError

    def prepare(self, *, workflow, event: dict, message_id: str) -> Any:
        """Everything the send needs, from the workflow and the event's body (a catalogue shape:
        workflows/event_types.py); runs in the caller's thread."""
        raise NotImplementedError

    def send(self, prepared: Any) -> AttemptOutcome:
        """One attempt. Runs in a worker thread without database access; never raises."""
        raise NotImplementedError
