from django.db import models


class WorkflowKind(models.TextChoices):
    """Registered delivery kinds: one module each under workflows/kinds/."""

    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack message"
    HTTP = "http", "HTTP request (templated)"


class DeliveryStatus(models.TextChoices):
    """pending: not tried yet; failed: will retry at next_attempt_at; dead: no more automatic attempts;
    cancelled: its lead was erased before it was sent, and it never will be (no replay either)."""

    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead"
    CANCELLED = "cancelled", "Cancelled (lead erased)"


class AttemptError(models.TextChoices):
    """Why an attempt failed, when it did not get a 2xx answer."""

    HTTP_STATUS = "http_status", "Non-2xx answer"
    TIMEOUT = "timeout", "Timed out"
    CONNECTION = "connection", "Connection failed"
    DNS = "dns", "Host name did not resolve"
    BLOCKED_TARGET = "blocked_target", "Target address refused (SSRF protection)"
    INVALID_CONFIG = "invalid_config", "Workflow configuration unusable"
    EMAIL = "email", "Email could not be sent"
    INTERNAL = "internal", "Internal error"


class ConditionOperator(models.TextChoices):
    """How a workflow condition compares an engagement field with its value."""

    EQUALS = "equals", "equals"
    NOT_EQUALS = "not_equals", "does not equal"
    IN = "in", "is one of"
    CONTAINS = "contains", "contains"
    EXISTS = "exists", "exists"
    NOT_EXISTS = "not_exists", "does not exist"


LEAD_OWNER_RECIPIENT = "lead_owner"


class WorkflowEvent(models.TextChoices):
    """What a workflow can subscribe to (its `events`): every engagement event, or one other event type.

    `engagement.*` stands for every `engagement.<stage>`; the workflow's `stages` choose among them.
    """

    ENGAGEMENT = "engagement.*", "Every engagement.<stage> its stages allow"
    LEAD_CREATED = "lead.created", "A lead was created"
    LEAD_UPDATED = "lead.updated", "A lead was changed"
    LEAD_ERASED = "lead.erased", "A lead's personal data was erased"
    DELIVERY_DEAD = "delivery.dead", "Another workflow's delivery died"


# What a workflow subscribes to when nothing is said: what every workflow received before `events` existed.
DEFAULT_WORKFLOW_EVENTS = (WorkflowEvent.ENGAGEMENT,)
