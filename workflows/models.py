"""Workflows deliver engagements to third parties; the actions they run on; every delivery and attempt."""
from django.db import models
from django.db.models import Q

from salesassist.core.models import BaseModel, SoftDeleteModel

from .choices import DeliveryStatus, WorkflowKind

__all__ = ["Workflow", "ActionWorkflow", "ActionCompanyWorkflow", "Delivery", "DeliveryAttempt"]


class Workflow(SoftDeleteModel):
    """A delivery to a third party, fired on chosen stages. Global when `company` is empty."""

    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="workflows"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=WorkflowKind.choices, default=WorkflowKind.WEBHOOK)
    config = models.JSONField(default=dict, blank=True, help_text="Kind-specific: a webhook's url and headers…")
    stages = models.JSONField(default=list, blank=True, help_text="Stages it fires on; empty means every stage.")
    conditions = models.JSONField(default=list, blank=True, help_text="Extra conditions on the engagement.")
    is_active = models.BooleanField(default=True)
    # Standard Webhooks signing secrets; the previous one keeps signing until it expires (rotation).
    secret = models.CharField(max_length=100, blank=True)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=300, blank=True)
    # Set by the first failed attempt after a success, cleared by the next success: a workflow whose
    # every attempt failed since longer than WORKFLOW_PAUSE_AFTER_HOURS is paused.
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "is_active"], name="workflows_wf_company_active")]

    def __str__(self) -> str:
        return self.name


class ActionWorkflow(BaseModel):
    """A default workflow of a catalogue action: every company's instance of the action runs it."""

    action = models.ForeignKey("action_engine.Action", on_delete=models.CASCADE, related_name="action_workflows")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="action_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["action", "workflow"], name="workflows_actionworkflow_unique")]


class ActionCompanyWorkflow(BaseModel):
    """A company's own workflow on one of its actions, run besides the action's defaults."""

    action_company = models.ForeignKey(
        "action_engine.ActionCompany", on_delete=models.CASCADE, related_name="company_workflows"
    )
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="company_action_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "company action workflow"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_company", "workflow"], name="workflows_actioncompanyworkflow_unique"
            )
        ]


class Delivery(BaseModel):
    """One workflow run for one engagement; owns its retry state. Never two for the same pair."""

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="deliveries")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="deliveries")
    engagement = models.ForeignKey(
        "action_engine.Engagement", on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Every attempt, manual replays included.")
    scheduled_attempts = models.PositiveIntegerField(
        default=0, help_text="Automatic attempts: the position in the retry schedule."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker owns the delivery while leased_until is in the future; lease_token fences its writes,
    # so a worker whose lease ran out cannot overwrite the state a newer attempt wrote.
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    # When a task for it was last queued: the sweeper leaves it to that task for a while.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="workflows_delivery_due"),
            models.Index(fields=["workflow", "-created_at"], name="workflows_delivery_workflow"),
            models.Index(fields=["company", "-created_at"], name="workflows_delivery_company"),
            # A worker reads back what it leased by token; only leased rows have one.
            models.Index(
                fields=["lease_token"], condition=Q(lease_token__isnull=False), name="workflows_delivery_leased"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "engagement"], name="workflows_delivery_once_per_engagement")
        ]

    def __str__(self) -> str:
        return f"{self.workflow} → {self.engagement_id} ({self.status})"


class DeliveryAttempt(BaseModel):
    """One try of a delivery: what was sent (signature redacted) and what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    is_manual = models.BooleanField(default=False, help_text="A replay asked for by an operator.")
    request_url = models.URLField(max_length=2000, blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error_class = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="workflows_attempt_unique_number")
        ]
