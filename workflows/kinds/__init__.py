"""The registry of workflow kinds: one module each; adding a kind is a module, a choice and a line here."""
from ..choices import WorkflowKind
from .base import AttemptOutcome, WorkflowKindHandler
from .email import EmailKind
from .http import HttpKind
from .slack import SlackKind
from .webhook import WebhookKind

__all__ = ["AttemptOutcome", "WorkflowKindHandler", "kind_handler", "KIND_HANDLERS"]

KIND_HANDLERS: dict[str, WorkflowKindHandler] = {
    WorkflowKind.WEBHOOK: WebhookKind(),
    WorkflowKind.EMAIL: EmailKind(),
    WorkflowKind.SLACK: SlackKind(),
    WorkflowKind.HTTP: HttpKind(),
}


def kind_handler(kind: str) -> WorkflowKindHandler:
    """The handler of a kind; KeyError for a kind this code does not know."""
    return KIND_HANDLERS[kind]
