"""Forms: the module of the forms system."""
from django.db import models

from salesassist.core.models import ConfigVersionedSoftDeleteModel


class Form(ConfigVersionedSoftDeleteModel):
    """A form definition as JSON Schema; a forms action page renders it and validates against it."""

    company = models.ForeignKey("crm.Company", on_delete=models.PROTECT, related_name="forms")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    schema = models.JSONField(default=dict, help_text="A JSON Schema (draft 2020-12) of type object.")
    submit_label = models.CharField(max_length=60, default="Submit")
    success_message = models.CharField(max_length=300, default="Thank you!")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
