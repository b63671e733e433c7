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
    # What the request said about where it came from and how it was sent: attribution (utm_*, referrer,
    # landing_url) and the channel a link went out on. Never personal data beyond what the lead gave.
    meta = models.JSONField(default=dict, blank=True)

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


class LeadActionState(models.Model):
    """Where one lead stands on one company action: the furthest stage it reached, when it first reached
    each stage, its last engagement and how many it had.

    Derived from the engagements, never edited by hand: `engagement_record` writes it in the engagement's
    transaction, and `manage.py rebuild_lead_action_states` recomputes it from the history. The board,
    the lead lists' stage and the funnel read it instead of the engagements.
    """

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="+")
    action_company = models.ForeignKey(
        "action_engine.ActionCompany", on_delete=models.PROTECT, related_name="lead_states"
    )
    lead = models.ForeignKey("crm.Lead", on_delete=models.PROTECT, related_name="action_states")
    # The furthest stage reached, and its position in the action system's pipeline (0 = its first stage):
    # "reached X" is stage_rank >= X's rank, as in the funnel, where a later stage counts for earlier ones.
    stage = models.CharField(max_length=20, choices=Stage.choices)
    stage_rank = models.PositiveSmallIntegerField()
    # The furthest stage before the last engagement (that engagement's previous_stage): what the upsert of
    # `engagement_record` returns as the new engagement's previous stage, read under the row's lock.
    previous_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    # When each stage was first reached (null: never recorded, even if a later stage was).
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    first_engaged_at = models.DateTimeField()
    last_engaged_at = models.DateTimeField()
    last_engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    engagement_count = models.PositiveIntegerField(default=0)
    # The last engagement's request fingerprint: a keyless request identical to it within
    # ENGAGEMENT_DEDUPE_SECONDS is answered as that engagement.
    last_fingerprint = models.CharField(max_length=64, blank=True)
    # The first touch's utm_source on this action (its first engagement that carried one), for the funnel.
    utm_source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action_company", "lead"], name="ae_lead_action_state_unique")
        ]
        indexes = [
            # The board's pages, newest engagement first: all leads, or one current stage (bench/board.py).
            models.Index(fields=["action_company", "-last_engaged_at", "-id"], name="ae_state_board"),
            models.Index(
                fields=["action_company", "stage_rank", "-last_engaged_at", "-id"], name="ae_state_board_stage"
            ),
            # The funnel's date range (its cohorts start at the first engagement). On PostgreSQL it also
            # INCLUDEs every column the funnel reads (migration 0012), so the funnel is an index-only scan.
            models.Index(fields=["action_company", "first_engaged_at"], name="ae_state_funnel"),
            models.Index(fields=["company", "lead"], name="ae_state_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.stage} on {self.action_company_id}"
