"""The slack kind: a message to a Slack incoming webhook, `{"text": …, "blocks": […]}` rendered from the event."""
from collections.abc import Mapping
from urllib.parse import urlsplit

from salesassist.core.exceptions import InvalidInput

from ..choices import WorkflowKind
from .base import REDACTED, AttemptOutcome, WorkflowKindHandler
from .outbound import PreparedRequest, json_body, request_attempt, unknown_keys_problem, url_problems
from .template import template_problems, template_render, text_problems, text_render

# Slack cuts a message's text at 40,000 characters and allows 50 blocks.
MAX_TEXT = 4000
MAX_BLOCKS = 50
# Without a `text` of its own, a workflow says what happened in words that fit the event's type.
ENGAGEMENT_TEXT = (
    "{{ data.lead.first_name }} {{ data.lead.last_name }} reached {{ data.engagement.stage }}"
    " on {{ data.company_action.name }}."
)
DEFAULT_TEXTS = {
    "lead.created": "New lead: {{ data.lead.first_name }} {{ data.lead.last_name }} {{ data.lead.email }}",
    "lead.updated": "Lead updated ({{ data.changed }}): {{ data.lead.first_name }} {{ data.lead.last_name }}",
    "lead.erased": "Lead {{ data.lead.uuid }} was erased.",
    "delivery.dead": "A delivery of workflow {{ data.workflow.name }} is dead: {{ data.delivery.last_error }}",
}


def default_text(event_type: str) -> str:
    return DEFAULT_TEXTS.get(event_type, ENGAGEMENT_TEXT)


def logged_url(url: str) -> str:
    """The incoming-webhook URL as the log shows it: its path is the credential, so only the host is kept."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{REDACTED}"


class SlackKind(WorkflowKindHandler):
    """POST {"text", "blocks"} to config["url"], a Slack incoming webhook; config["text"] and config["blocks"]
    name dot paths into the event as {{ data.lead.email }} (see workflows.kinds.template)."""

    kind = WorkflowKind.SLACK
    signed = False  # Slack checks nothing but the URL, whose path is the secret

    def config_validate(self, config) -> dict:
        if not isinstance(config, Mapping):
            raise InvalidInput(
                "config must be an object.", errors={"config": ['Must be an object {"url", "text", "blocks"}.']}
            )
        errors = unknown_keys_problem(config, {"url", "text", "blocks"})
        url = config.get("url")
        if problems := url_problems(url):
            errors["config.url"] = problems
        text = config.get("text")  # none: default_text(), by the event's type
        if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT):
            errors["config.text"] = [f"A message of 1 to {MAX_TEXT} characters, with {{{{ dot.path }}}} placeholders."]
        elif text is not None and (problems := text_problems(text)):
            errors["config.text"] = problems
        blocks = config.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS or not all(
                isinstance(block, Mapping) for block in blocks
            ):
                errors["config.blocks"] = [f"A list of at most {MAX_BLOCKS} Slack blocks (objects)."]
            else:
                errors.update(template_problems(blocks, key="config.blocks"))
        if errors:
            raise InvalidInput("The Slack configuration is invalid; see errors.", errors=errors)
        cleaned = {"url": url, **({"text": text} if text is not None else {})}
        if blocks is not None:
            cleaned["blocks"] = blocks
        return cleaned

    def prepare(self, *, workflow, event: dict, message_id: str) -> PreparedRequest:
        """The Slack message of one event (its webhook body)."""
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        message = {"text": text_render(str(config.get("text") or default_text(event.get("type", ""))), event)}
        if isinstance(config.get("blocks"), list):
            message["blocks"] = template_render(config["blocks"], event)
        url = str(config.get("url") or "")
        return PreparedRequest(
            url=url,
            body=json_body(message, sort_keys=True),
            message_id=message_id,
            secrets=[],
            logged_url=logged_url(url),
        )

    def send(self, prepared: PreparedRequest) -> AttemptOutcome:
        return request_attempt(prepared, signed=False)
