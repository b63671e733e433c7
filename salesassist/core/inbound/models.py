"""The stored raw call to an inbound URL: its columns and its outcome, the same for every receiver."""
from django.db import models

from ..models import BaseModel


class InboundOutcome(models.TextChoices):
    """What came of a stored call: still received (being processed, or cut off), processed, or failed."""

    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class InboundCall(BaseModel):
    """One raw call to an inbound URL, stored before anything else; a subclass adds its receiver, its
    company and what the call made."""

    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=InboundOutcome.choices, default=InboundOutcome.RECEIVED)
    error = models.JSONField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
