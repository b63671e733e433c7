from django.db import models


class WorkflowKind(models.TextChoices):
    """Registered delivery kinds: one module each under workflows/kinds/."""

    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "Email"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead"
