"""The http kind: the event in the target's own shape (a CRM's contact API…): a JSON template rendered from the
event, sent signed (Standard Webhooks) with the configured method and headers to a checked public address."""
from collections.abc import Mapping

from salesassist.core.exceptions import InvalidInput

from ..choices import WorkflowKind
from .base import AttemptOutcome, WorkflowKindHandler
from . import outbound
from .outbound import PreparedRequest
from .template import template_problems, template_render

METHODS = ("POST", "PUT", "PATCH")


class HttpKind(WorkflowKindHandler):
    """Send config["template"] rendered from the event (strings name dot paths as {{ data.lead.email }}, see
    workflows.kinds.template) with config["method"] to config["url"], config["headers"] added."""

    kind = WorkflowKind.HTTP
    signed = True

    def config_validate(self, config) -> dict:
        if not isinstance(config, Mapping):
            raise InvalidInput(
                "config must be an object.",
                errors={"config": ['Must be an object {"url", "method", "headers", "template"}.']},
            )
        keys = {"url", "method", "headers", "template"}
        errors = {**outbound.unknown_keys_problem(config, keys), **outbound.endpoint_problems(config)}
        method = config.get("method", "POST")
        if method not in METHODS:
            errors["config.method"] = [f"One of: {', '.join(METHODS)}."]
        if "template" not in config:
            errors["config.template"] = ['The JSON to send, e.g. {"email": "{{ data.lead.email }}"}.']
        else:
            errors.update(template_problems(config["template"], key="config.template"))
        if errors:
            raise InvalidInput("The HTTP configuration is invalid; see errors.", errors=errors)
        headers = outbound.configured_headers(config)
        return {"url": config["url"], "method": method, "headers": headers, "template": config["template"]}

    def prepare(self, *, workflow, event: dict, message_id: str) -> PreparedRequest:
        """The templated request of one event (its webhook body)."""
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        return PreparedRequest(
            url=str(config.get("url") or ""),
            method=config.get("method") if config.get("method") in METHODS else "POST",
            body=outbound.json_body(template_render(config.get("template"), event), sort_keys=True),
            message_id=message_id,
            secrets=outbound.live_secrets(workflow),
            custom_headers=outbound.configured_headers(config),
        )

    def send(self, prepared: PreparedRequest) -> AttemptOutcome:
        return outbound.request_attempt(prepared, signed=True)
