"""Companies (tenants) and their people: staff, API keys, leads, visitors, lead receivers."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesassist.core.inbound.models import InboundCall
from salesassist.core.models import BaseModel, ConfigVersionedModel, SoftDeleteModel

from .choices import ApiKeyAccess, LeadStatus, MembershipRole

USER_MODEL = settings.AUTH_USER_MODEL

__all__ = ["Company", "CompanyMembership", "ApiKey", "Lead", "Visitor", "LeadReceiver", "LeadReceiverAttempt", "LeadErasure", "LeadImport"]


class Company(ConfigVersionedModel):
    """A tenant: a business using SalesAssist. Everything it owns is invisible to other companies."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    settings = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(
        USER_MODEL, through="CompanyMembership", related_name="companies", blank=True
    )

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CompanyMembership(BaseModel):
    """A staff user's membership in a company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="crm_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class ApiKey(BaseModel):
    """A company's API key. Only its SHA-256 is stored; the prefix identifies it in lists and logs."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_key = models.CharField(max_length=64, unique=True)
    access = models.CharField(max_length=20, choices=ApiKeyAccess.choices, default=ApiKeyAccess.READ_WRITE)
    created_by = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.access == ApiKeyAccess.READ_WRITE


class Lead(SoftDeleteModel):
    """A person a company sells to."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="leads")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Normalized copies are the dedupe keys (crm.services.lead_normalize fills them): unique per company
    # while the lead is alive.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_normalized = models.CharField(max_length=40, blank=True, editable=False)
    owner = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    source = models.CharField(max_length=100, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # Set once the lead follows the unsubscribe link of an email we sent them: no email goes to them after.
    unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "-created_at"], name="crm_lead_company_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "email_normalized"],
                condition=Q(deleted_at__isnull=True) & ~Q(email_normalized=""),
                name="crm_lead_unique_email_per_company",
            ),
            models.UniqueConstraint(
                fields=["company", "phone_normalized"],
                condition=Q(deleted_at__isnull=True) & ~Q(phone_normalized=""),
                name="crm_lead_unique_phone_per_company",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or str(self.uuid)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Visitor(BaseModel):
    """One browser identity (its uuid is made by the action page), linked to at most one lead.

    Its uuid is unique within its company, not across companies: a page names its visitor, and the same
    uuid posted to another company's action must be answered as a new visitor there, so that no call
    tells whether another company knows that uuid (action_engine/services/engagements.py). A database
    trigger (migration 0002) refuses a lead from another company.
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="visitors")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="visitors")
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # The first touch: utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer and landing_url
    # of the first engagement that carried any; later touches are kept on each engagement's meta.
    first_touch = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "lead"], name="crm_visitor_company_lead")]
        constraints = [models.UniqueConstraint(fields=["company", "uuid"], name="crm_visitor_uuid_per_company")]


class LeadReceiver(BaseModel):
    """An inbound URL where a third party posts leads into a company's CRM, with a field mapping."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="lead_receivers")
    name = models.CharField(max_length=200)
    template = models.JSONField(
        default=dict, blank=True, help_text="Mapping: lead field → dot path in the posted JSON, plus defaults."
    )
    default_owner = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=100, blank=True, help_text="Source recorded on leads it creates.")
    secret = models.CharField(
        max_length=100, blank=True, help_text="A whsec_ secret; when set, calls must carry a valid signature."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LeadReceiverAttempt(InboundCall):
    """One raw call to a lead receiver, stored before anything else so nothing posted is lost."""

    receiver = models.ForeignKey(LeadReceiver, on_delete=models.CASCADE, related_name="attempts")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["receiver", "-created_at"], name="crm_lra_receiver_created")]


class LeadErasure(BaseModel):
    """The audit of a lead's erasure: who asked (a staff user or an API key), when, and how many rows of
    each table lost their personal data. Holds no personal data itself; one per lead, never changed."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="erasure")
    lead_uuid = models.UUIDField(editable=False, help_text="The erased lead's uuid, kept as it was asked for.")
    erased_at = models.DateTimeField()
    erased_by_user = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_by_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # {"<app.Model>": rows whose personal data was removed}.
    erased_counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure of lead {self.lead_uuid}"


class LeadImport(InboundCall):
    """One bulk upload of leads (CSV or JSON lines), stored raw before a row is read, like any inbound call, and
    marked processed (with its counts) or failed (with its problem). Its rows are mapped by a lead receiver's
    template (or each column at its own name) and de-duplicated like a lead receiver's calls."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    receiver = models.ForeignKey(
        LeadReceiver, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports",
        help_text="The lead receiver whose template, source and default owner map the rows; none: each column "
        "at its own name.",
    )
    content_type = models.CharField(max_length=100)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
