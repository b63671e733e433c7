"""A company's own instances of catalogue actions, with their receivers and modules."""
from django.db import models
from django.db.models import Q

from action_engine.choices import ModuleKind, Stage
from salesassist.core.inbound.models import InboundCall
from salesassist.core.models import BaseModel, ConfigVersionedModel, ConfigVersionedSoftDeleteModel


class ActionCompany(ConfigVersionedSoftDeleteModel):
    """A company's instance of an action; its uuid is the action uuid that pages send."""

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="company_actions")
    action = models.ForeignKey("action_engine.Action", on_delete=models.PROTECT, related_name="company_actions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    config = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    is_published = models.BooleanField(default=True)
    page_url = models.URLField(
        max_length=500, blank=True, help_text="The company's own action page base URL; empty for ours."
    )

    class Meta:
        verbose_name = "company action"
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "name"], name="ae_actioncompany_company_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def system(self):
        return self.action.system


class ActionCompanyReceiver(BaseModel):
    """The inbound URL where a third party posts a company action's results.

    A company action has one active receiver at a time; rotating it deactivates the old one.
    """

    company = models.ForeignKey("crm.Company", on_delete=models.CASCADE, related_name="+")
    action_company = models.ForeignKey(ActionCompany, on_delete=models.CASCADE, related_name="receivers")
    secret = models.CharField(
        max_length=100, blank=True, help_text="A whsec_ secret; when set, calls must carry a valid signature."
    )
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Dot paths in the posted JSON for lead, visitor, stage and message."
    )
    default_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "company action receiver"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_company"], condition=Q(is_active=True), name="ae_receiver_one_active_per_action"
            )
        ]


class ReceiverCall(InboundCall):
    """One raw call to a company action receiver, stored before anything else is done with it."""

    company = models.ForeignKey("crm.Company", on_delete=models.CASCADE, related_name="+")
    receiver = models.ForeignKey(ActionCompanyReceiver, on_delete=models.CASCADE, related_name="calls")
    engagement = models.ForeignKey(
        "action_engine.Engagement", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["receiver", "-created_at"], name="ae_receivercall_recv_created"),
            models.Index(fields=["outcome", "created_at"], name="ae_receivercall_outcome"),
        ]


class ActionCompanySystemModule(ConfigVersionedModel):
    """One product, content or form that a company action's page shows, in order."""

    action_company = models.ForeignKey(ActionCompany, on_delete=models.CASCADE, related_name="modules")
    kind = models.CharField(max_length=20, choices=ModuleKind.choices)
    product = models.ForeignKey("products.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    content = models.ForeignKey("products.Content", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey("action_engine.Form", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "company action module"
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=ModuleKind.PRODUCT, product__isnull=False, content__isnull=True, form__isnull=True)
                    | Q(kind=ModuleKind.CONTENT, product__isnull=True, content__isnull=False, form__isnull=True)
                    | Q(kind=ModuleKind.FORM, product__isnull=True, content__isnull=True, form__isnull=False)
                ),
                name="ae_module_references_its_kind",
            ),
            models.UniqueConstraint(
                fields=["action_company", "product"], condition=Q(product__isnull=False), name="ae_module_unique_product"
            ),
            models.UniqueConstraint(
                fields=["action_company", "content"], condition=Q(content__isnull=False), name="ae_module_unique_content"
            ),
            models.UniqueConstraint(
                fields=["action_company", "form"], condition=Q(form__isnull=False), name="ae_module_unique_form"
            ),
        ]

    @property
    def target(self):
        """The product, content or form this module shows."""
        return {ModuleKind.PRODUCT: self.product, ModuleKind.CONTENT: self.content, ModuleKind.FORM: self.form}[
            self.kind
        ]
