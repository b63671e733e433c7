"""The action catalogue: small reference tables and the actions built on them."""
from django.db import models
from django.db.models import Q

from action_engine.choices import SystemSlug
from salesassist.core.models import BaseModel, ConfigVersionedModel, ConfigVersionedSoftDeleteModel


class ActionType(ConfigVersionedModel):
    """What kind of action this is (product, document, form, commerce…): a label for people."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActionSystem(ConfigVersionedModel):
    """The subsystem that powers an action page and validates its results (forms, commerce, content).

    What each does (its pipeline, what its pages show) is code: `action_engine.systems.system_spec(slug)`.
    """

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, choices=SystemSlug.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActionDataType(BaseModel):
    """The data an action works on (product, content)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Action(ConfigVersionedSoftDeleteModel):
    """A catalogue entry. Global when `company` is empty; otherwise a company's own."""

    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="own_actions"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    type = models.ForeignKey(ActionType, on_delete=models.PROTECT, related_name="actions")
    system = models.ForeignKey(ActionSystem, on_delete=models.PROTECT, related_name="actions")
    data_type = models.ForeignKey(
        ActionDataType, null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    config = models.JSONField(default=dict, blank=True)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(company__isnull=True, deleted_at__isnull=True),
                name="action_engine_action_unique_global_slug",
            ),
            models.UniqueConstraint(
                fields=["company", "slug"],
                condition=Q(company__isnull=False, deleted_at__isnull=True),
                name="action_engine_action_unique_company_slug",
            ),
        ]

    def __str__(self) -> str:
        return self.name
