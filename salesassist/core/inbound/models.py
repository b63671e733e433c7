"""The stored raw call to an inbound URL: its columns and its outcome, the same for every receiver."""
from django.db import models

from ..models import BaseModel
from ..webhook_signing import SignatureFailure


class InboundOutcome(models.TextChoices):
    """What came of a stored call: still received (being processed, or cut off), processed, failed, or
    rejected for its signature (kept without its body: there is nothing to replay)."""

    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected (signature)"


SIGNATURE_FAILURE_CHOICES = [(failure.value, failure.value.capitalize()) for failure in SignatureFailure]


class InboundCall(BaseModel):
    """One raw call to an inbound URL, stored before anything else; a subclass adds its receiver, its
    company and what the call made."""

    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=InboundOutcome.choices, default=InboundOutcome.RECEIVED)
    error = models.JSONField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The size of the body as it came, in bytes: all that a rejected call keeps of it.
    body_size = models.PositiveIntegerField(null=True, blank=True)
    rejection = models.CharField(
        max_length=20, choices=SIGNATURE_FAILURE_CHOICES, blank=True, help_text="Why its signature check failed."
    )

    class Meta:
        abstract = True
