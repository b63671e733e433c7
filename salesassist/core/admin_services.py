"""Admin pages that write through the domain's services, so a change made in admin keeps every rule the
API keeps; the rules themselves are the services' check functions, run by the admin forms as well."""
from django.utils.html import format_html

from .admin import ConstraintCheckingForm, adopt_saved_row
from .exceptions import DomainError


def domain_error_fields(error: DomainError, *, renamed: dict[str, str] | None = None) -> dict[str | None, list]:
    """A service's refusal as form errors: its field errors by field (`renamed` maps a service's field name
    to the form's where they differ), or its detail on the form as a whole (None) when it names no field."""
    if not error.errors:
        return {None: [error.detail]}
    renamed = renamed or {}
    return {
        renamed.get(field, field): messages if isinstance(messages, list) else [messages]
        for field, messages in error.errors.items()
    }


def cleaned_fields(form, names) -> dict:
    """The form's cleaned values of those of `names` it edits: the fields to hand to a service."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


class ServiceRulesForm(ConstraintCheckingForm):
    """A model form that runs the services' rules in clean() and shows what they refuse as form errors.

    A subclass implements `check_rules(cleaned_data)` by calling the services' check functions, which raise
    DomainError. `cleaned_data` lacks the fields that failed their own validation, and `self.instance` is
    still the stored row then (the form's values are put on it after clean). An error on a field the form
    does not show is shown on the form as a whole.
    """

    rule_fields: dict[str, str] = {}  # a service's field name -> this form's, where they differ

    def check_rules(self, cleaned_data: dict) -> None:
        """Call the services' checks for these values; nothing to check by default."""

    def clean(self):
        cleaned_data = super().clean()
        try:
            self.check_rules(cleaned_data)
        except DomainError as error:
            for field, messages in domain_error_fields(error, renamed=self.rule_fields).items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned_data


class ServiceWritesAdminMixin:
    """A model admin whose adds, changes and deletes go through the domain's services.

    A subclass overrides the writes that have a service:
    - `create_row(request, form)` returns the new row, made from `form.cleaned_data` (see `cleaned_fields`);
    - `update_row(request, row, form)` returns the changed row; `row` is the stored row, before the form's
      changes, as the API hands it to the same service;
    - `delete_row(request, row)` deletes one row (a bulk delete deletes row by row), and
      `delete_check(row)` raises the DomainError of a row that must stay: the delete page then lists it,
      with the reason, as what prevents the delete, and nothing is deleted.
    A write it leaves alone saves or deletes the model as Django's admin does. `fixed_fields` are set
    when a row is added and shown read-only after (its services take them on create only). The form
    should run the same rules (ServiceRulesForm), so that a refusal is a form error, not an error page.
    """

    fixed_fields: tuple[str, ...] = ()

    def create_row(self, request, form):
        form.instance.save()
        return form.instance

    def update_row(self, request, row, form):
        form.instance.save()
        return form.instance

    def delete_row(self, request, row) -> None:
        row.delete()

    def delete_check(self, row) -> None:
        """Raise the DomainError that keeps `row` from being deleted; none by default."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is None else [*fields, *(name for name in self.fixed_fields if name not in fields)]

    def save_model(self, request, obj, form, change):
        if change:
            saved = self.update_row(request, self.model._default_manager.get(pk=obj.pk), form)
        else:
            saved = self.create_row(request, form)
        adopt_saved_row(obj, saved)

    def delete_model(self, request, obj):
        self.delete_row(request, obj)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            self.delete_row(request, row)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected)
        for row in objs:
            try:
                self.delete_check(row)
            except DomainError as error:
                protected.append(format_html("{}: {}", row, error.detail))
        return deleted, counts, perms_needed, protected
