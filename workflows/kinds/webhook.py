"""The webhook kind: the event payload as it is, a signed JSON POST (Standard Webhooks) to a checked, pinned
public address."""
from collections.abc import Mapping

from salesassist.core.exceptions import InvalidInput

from ..choices import WorkflowKind
from .base import AttemptOutcome, WorkflowKindHandler
from .outbound import (
    PreparedRequest,
    configured_headers,
    endpoint_problems,
    json_body,
    live_secrets,
    request_attempt,
    unknown_keys_problem,
)


class WebhookKind(WorkflowKindHandler):
    """POST JSON to config["url"], with config["headers"] added."""

    kind = WorkflowKind.WEBHOOK
    signed = True

    def config_validate(self, config) -> dict:
        if not isinstance(config, Mapping):
            raise InvalidInput("config must be an object.", errors={"config": ['Must be an object {"url", "headers"}.']})
        errors = {**unknown_keys_problem(config, {"url", "headers"}), **endpoint_problems(config)}
        if errors:
            raise InvalidInput("The webhook configuration is invalid; see errors.", errors=errors)
        return {"url": config["url"], "headers": configured_headers(config)}

    def prepare(self, *, workflow, event: dict, message_id: str) -> PreparedRequest:
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        return PreparedRequest(
            url=str(config.get("url") or ""),
            body=json_body(event),
            message_id=message_id,
            secrets=live_secrets(workflow),
            custom_headers=configured_headers(config),
        )

    def send(self, prepared: PreparedRequest) -> AttemptOutcome:
        return request_attempt(prepared, signed=True)

