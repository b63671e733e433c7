"""Workflows deliver engagements to third parties; the actions they run on; every delivery and attempt."""
from django.db import models
from django.db.models import Q

from salesassist.core.models import BaseModel, ConfigVersionedModel, ConfigVersionedSoftDeleteModel

from .choices import DEFAULT_WORKFLOW_EVENTS, DeliveryStatus, WorkflowKind

__all__ = ["Workflow", "ActionWorkflow", "ActionCompanyWorkflow", "Delivery", "DeliveryAttempt"]


def default_workflow_events() -> list[str]:
    return list(DEFAULT_WORKFLOW_EVENTS)


class Workflow(ConfigVersionedSoftDeleteModel):
    """A delivery to a third party, fired on the events it subscribes to. Global when `company` is empty."""

    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="workflows"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=WorkflowKind.choices, default=WorkflowKind.WEBHOOK)
    config = models.JSONField(default=dict, blank=True, help_text="Kind-specific: a webhook's url and headers…")
    events = models.JSONField(
        default=default_workflow_events,
        help_text='Event types it subscribes to (workflows.choices.WorkflowEvent); "engagement.*" is every '
        "engagement event its stages allow.",
    )
    stages = models.JSONField(
        default=list, blank=True, help_text="Stages of the engagement events it fires on; empty means every stage."
    )
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

    # Set and cleared by the attempts as a workflow starts and stops failing; fan-out does not read it.
    config_unversioned_fields = frozenset({"updated_at", "failing_since"})

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "is_active"], name="workflows_wf_company_active")]

    def __str__(self) -> str:
        return self.name


class ActionWorkflow(ConfigVersionedModel):
    """A default workflow of a catalogue action: every company's instance of the action runs it."""

    action = models.ForeignKey("action_engine.Action", on_delete=models.CASCADE, related_name="action_workflows")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="action_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["action", "workflow"], name="workflows_actionworkflow_unique")]


class ActionCompanyWorkflow(ConfigVersionedModel):
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
    """One event sent by one workflow; owns its retry state. Never two for the same workflow and engagement.

    An engagement event's body is built from its engagement at send time (engagements never change); any other
    event's body is the `payload` snapshot taken when it was emitted, so later changes never alter what is sent;
    only the lead's erasure rewrites the lead in it (workflows/services/lead_data.py).
    """

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="deliveries")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="deliveries")
    event_type = models.CharField(max_length=50, help_text="The catalogue's type (workflows/event_types.py).")
    engagement = models.ForeignKey(
        "action_engine.Engagement", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    payload = models.JSONField(null=True, blank=True, editable=False, help_text="The body, for non-engagement events.")
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
            models.UniqueConstraint(fields=["workflow", "engagement"], name="workflows_delivery_once_per_engagement"),
            # What `prepare` sends: an engagement's body, or the snapshot.
            models.CheckConstraint(
                condition=Q(engagement__isnull=False) | Q(payload__isnull=False), name="workflows_delivery_has_body"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} → {self.event_type} ({self.status})"


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
        indexes = [
            # Retention's next batch of bodies to blank (crm/services/retention.py): only the rows that still
            # have one, so a run never walks past the ones blanked before (bench/scale.py, docs/scaling.md).
            models.Index(
                fields=["id"], condition=~Q(request_body="") | ~Q(response_body=""), name="workflows_attempt_body_kept"
            )
        ]
