"""Engagements: the append-only history of the stages leads reached on company actions."""
from django.db import models
from django.db.models import Q

from action_engine.choices import Stage
from salesassist.core.models import BaseModel


class Message(BaseModel):
    """The JSON body of an action's result (a form's data, a cart, a download)."""

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="+")
    body = models.JSONField(default=dict, blank=True)


class Engagement(BaseModel):
    """One stage a lead reached on a company action. Rows are never changed after they are written."""

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="engagements")
    action_company = models.ForeignKey(
        "action_engine.ActionCompany", on_delete=models.PROTECT, related_name="engagements"
    )
    lead = models.ForeignKey("crm.Lead", on_delete=models.PROTECT, related_name="engagements")
    visitor = models.ForeignKey(
        "crm.Visitor", null=True, blank=True, on_delete=models.PROTECT, related_name="engagements"
    )
    receiver = models.ForeignKey(
        "action_engine.ActionCompanyReceiver",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="engagements",
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    previous_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="engagement"
    )
    # A client's Idempotency-Key (or submission_id): the same key records once per company.
    idempotency_key = models.CharField(max_length=200, blank=True)
    # What the request asked for, hashed (action_engine/services/engagements.py: engagement_fingerprint):
    # a key sent again with another request is refused, a keyless repeat within seconds is answered as the
    # first. Empty on rows recorded before it was kept.
    request_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "lead", "-created_at"], name="ae_engagement_feed"),
            models.Index(fields=["action_company", "-created_at"], name="ae_engagement_action_created"),
            models.Index(fields=["action_company", "lead", "stage"], name="ae_engagement_action_lead"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ae_engagement_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead} {self.stage} {self.action_company}"
