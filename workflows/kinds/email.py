"""The email kind: the event, rendered with templates/workflows/event_email.*, through Django's backend."""
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.template.loader import render_to_string

from salesassist.core.exceptions import InvalidInput

from ..choices import LEAD_OWNER_RECIPIENT, AttemptError, WorkflowKind
from ..event_types import ENGAGEMENT_PREFIX
from .base import REQUEST_BODY_STORE_LIMIT, AttemptOutcome, WorkflowKindHandler

MAX_RECIPIENTS = 20
TEMPLATE_TEXT = "workflows/event_email.txt"
TEMPLATE_HTML = "workflows/event_email.html"
SUBJECT_TEMPLATE = "workflows/event_email_subject.txt"
DEFAULT_EMAIL_TIMEOUT = 15  # seconds, when settings.EMAIL_TIMEOUT is unset: a send never waits forever


def flatten_message(value, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """The message as (dot path, value) rows for people: {"data": {"email": …}} → [("data.email", …)]."""
    if isinstance(value, Mapping) and value and depth < 5:
        rows = []
        for key, item in value.items():
            rows.extend(flatten_message(item, f"{prefix}.{key}" if prefix else str(key), depth + 1))
        return rows
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return [(prefix or "message", "" if value is None else str(value))]


@dataclass
class PreparedEmail:
    message: EmailMultiAlternatives | None
    problem: str = ""  # why nothing can be sent (no recipient): a permanent failure


class EmailKind(WorkflowKindHandler):
    """Email the event to config["recipients"]: addresses, or "lead_owner" (the owner of the event's lead)."""

    kind = WorkflowKind.EMAIL

    def config_validate(self, config) -> dict:
        if not isinstance(config, Mapping):
            raise InvalidInput("config must be an object.", errors={"config": ['Must be an object {"recipients"}.']})
        errors: dict[str, list[str]] = {}
        unknown = set(config) - {"recipients", "subject"}
        if unknown:
            errors["config"] = [f"Unknown keys: {', '.join(sorted(map(str, unknown)))}."]
        recipients = config.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            errors["config.recipients"] = [f'A list of email addresses or "{LEAD_OWNER_RECIPIENT}".']
        elif len(recipients) > MAX_RECIPIENTS:
            errors["config.recipients"] = [f"At most {MAX_RECIPIENTS} recipients."]
        else:
            for index, recipient in enumerate(recipients):
                if recipient == LEAD_OWNER_RECIPIENT:
                    continue
                if not isinstance(recipient, str):  # validate_email raises AttributeError for a list or object
                    errors[f"config.recipients.{index}"] = [
                        f'Must be a string: an email address or "{LEAD_OWNER_RECIPIENT}".'
                    ]
                    continue
                try:
                    validate_email(recipient)
                except (ValidationError, TypeError):
                    errors[f"config.recipients.{index}"] = [f'Not an email address nor "{LEAD_OWNER_RECIPIENT}".']
        subject = config.get("subject", "")
        if not isinstance(subject, str) or len(subject) > 200 or "\n" in subject:
            errors["config.subject"] = ["One line of at most 200 characters."]
        if errors:
            raise InvalidInput("The email configuration is invalid; see errors.", errors=errors)
        cleaned = {"recipients": list(dict.fromkeys(recipients))}
        if subject:
            cleaned["subject"] = subject
        return cleaned

    def prepare(self, *, workflow, event: dict, message_id: str) -> PreparedEmail:
        config = workflow.config if isinstance(workflow.config, Mapping) else {}
        data = event["data"]
        recipients = []
        for recipient in config.get("recipients") or []:
            if recipient == LEAD_OWNER_RECIPIENT:
                owner = (data.get("lead") or {}).get("owner")
                if owner and owner.get("email"):
                    recipients.append(owner["email"])
            elif isinstance(recipient, str):
                recipients.append(recipient)
        recipients = list(dict.fromkeys(recipients))
        if not recipients:
            return PreparedEmail(message=None, problem="No recipient: the lead has no owner with an email address.")
        # An engagement's email lists its message; any other event's lists its data.
        is_engagement = event["type"].startswith(ENGAGEMENT_PREFIX)
        if is_engagement:
            message_fields = flatten_message(data["message"]) if data["message"] else []
        else:
            message_fields = flatten_message(data)
        context = {
            "payload": event,
            "is_engagement": is_engagement,
            "data": data,
            "message_fields": message_fields[:200],
            "workflow_name": workflow.name,
        }
        subject = config.get("subject") or render_to_string(SUBJECT_TEMPLATE, context).strip()
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string(TEMPLATE_TEXT, context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            headers={"X-SalesAssist-Message-Id": message_id},
        )
        message.attach_alternative(render_to_string(TEMPLATE_HTML, context), "text/html")
        return PreparedEmail(message=message)

    def send(self, prepared: PreparedEmail) -> AttemptOutcome:
        started = time.monotonic()
        if prepared.message is None:
            return AttemptOutcome(
                succeeded=False, error_class=AttemptError.INVALID_CONFIG, error_message=prepared.problem, permanent=True
            )
        message = prepared.message
        request = {"to": list(message.to), "subject": message.subject, "body": message.body}
        outcome = AttemptOutcome(
            succeeded=False,
            request_url="mailto:" + ",".join(message.to),
            request_headers={"To": ", ".join(message.to), "Subject": message.subject},
            request_body=message.body[:REQUEST_BODY_STORE_LIMIT],
            exact_request=request,
        )
        try:
            timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_EMAIL_TIMEOUT
            message.connection = get_connection(fail_silently=False, timeout=timeout)
            sent = message.send(fail_silently=False)
        except Exception as exc:  # SMTP and socket errors alike: retried on the schedule
            outcome.error_class = AttemptError.EMAIL
            outcome.error_message = f"{exc.__class__.__name__}: {exc}"
        else:
            outcome.succeeded = bool(sent)
            outcome.response_body = f"Accepted by the email backend for {len(message.to)} recipient(s)."
            if not sent:
                outcome.error_class = AttemptError.EMAIL
                outcome.error_message = "The email backend sent nothing."
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome
