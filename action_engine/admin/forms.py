"""Admin of forms: the JSON Schema definitions forms action pages render."""
from django import forms
from django.contrib import admin

from action_engine.models import Form
from action_engine.services import (
    FORM_FIELDS,
    form_create,
    form_delete_check,
    form_schema_errors,
    form_soft_delete,
    form_update,
)
from crm.admin_tenancy import SoftDeleteModelAdmin
from salesassist.core.admin import COMPANY_FILTER, ConstraintCheckingForm, ServiceWritesAdminMixin


class FormAdminForm(ConstraintCheckingForm):
    """The schema must be a usable form: a JSON Schema (draft 2020-12) of type object."""

    def clean_schema(self):
        schema = self.cleaned_data["schema"]
        errors = form_schema_errors(schema)
        if errors:
            raise forms.ValidationError(errors)
        return schema


@admin.register(Form)
class FormAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A JSON-Schema form: the module of the forms system."""

    form = FormAdminForm
    create_service = form_create
    update_service = form_update
    delete_service = form_soft_delete
    delete_check_service = form_delete_check
    instance_kwarg = "form"
    service_fields = FORM_FIELDS
    fixed_fields = ("company",)
    list_display = ("name", "company", "submit_label", "created_at")
    list_filter = (COMPANY_FILTER, "created_at")
    search_fields = ("name", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
