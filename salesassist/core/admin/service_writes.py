"""Admin pages that write through the domain's services, so a change made in admin keeps every rule the API
keeps; the rules themselves are the services' check functions, which the admin forms run as well so that a
refusal is a form error, not an error page."""
from django.utils.html import format_html

from ..exceptions import DomainError
from .forms import ConstraintCheckingForm


def domain_error_fields(error: DomainError, *, renamed: dict[str, str] | None = None) -> dict[str | None, list]:
    """A service's refusal as form errors: its field errors by field, or its detail on the form as a whole
    (None) when it names no field.

    `renamed` maps a service's field name to the form's where they differ. An error on a path inside a field
    (`config.url`, `conditions.0.op`) is an error of that field, its path kept in the message.
    """
    if not error.errors:
        return {None: [error.detail]}
    renamed = renamed or {}
    fields: dict[str | None, list] = {}
    for key, messages in error.errors.items():
        messages = messages if isinstance(messages, list) else [messages]
        field, _, path = key.partition(".")
        if path:
            messages = [f"{key}: {message}" for message in messages]
        fields.setdefault(renamed.get(field, field), []).extend(messages)
    return fields


def cleaned_fields(form, names) -> dict:
    """The form's cleaned values of those of `names` it edits: the fields to hand to a service."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


class ServiceRulesForm(ConstraintCheckingForm):
    """A model form that runs the services' rules and shows what they refuse (a DomainError) as form errors.

    A subclass calls the services' checks from the hook that fits their shape:
    - `check_rules(cleaned_data)` checks the new values against the stored row, in clean(): `cleaned_data`
      lacks the fields that failed their own validation, and `self.instance` is still the stored row (the
      form's values are put on it after clean);
    - `check_row(row)` runs a service's `<entity>_validate` on the row as it would be saved: once the form's
      values are on it, and only when nothing else failed (a unique clash reads as its constraint's message).
    An error on a field the form does not show is shown on the form as a whole.
    """

    rule_fields: dict[str, str] = {}  # a service's field name -> this form's, where they differ

    def check_rules(self, cleaned_data: dict) -> None:
        """Call the services' checks of these values; nothing to check by default."""

    def check_row(self, row) -> None:
        """Call the service's validation of the row the form built; nothing to check by default."""

    def clean(self):
        cleaned_data = super().clean()
        self._show_refusal(self.check_rules, cleaned_data)
        return cleaned_data

    def validate_unique(self):
        # Django calls this once the instance holds the form's values.
        super().validate_unique()
        if not self._errors:
            self._show_refusal(self.check_row, self.instance)

    def _show_refusal(self, check, value) -> None:
        try:
            check(value)
        except DomainError as error:
            for field, messages in domain_error_fields(error, renamed=self.rule_fields).items():
                self.add_error(field if field in self.fields else None, messages)


def adopt_saved_row(obj, saved) -> None:
    """Turn the admin's `obj` into the row a service just saved.

    The add view's inline formsets, log entry and redirect then see the new row, the change view the row as
    the service left it.
    """
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ServiceWritesAdminMixin:
    """A model admin whose adds, changes and deletes go through the domain's services, as the API's viewsets
    (salesassist.core.viewsets) do:

        class LeadAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
            create_service = lead_create        # lead_create(company=…, **fields)
            update_service = lead_update        # lead_update(lead=<the stored row>, **fields)
            delete_service = lead_soft_delete   # lead_soft_delete(lead=…); a bulk delete deletes row by row
            instance_kwarg = "lead"
            service_fields = LEAD_FIELDS        # the form's fields that create and update take
            fixed_fields = ("company",)         # create takes them too; shown read-only after the add

    `delete_check_service` (called like `delete_service`) raises the DomainError of a row that must stay: the
    delete page then lists it, with the reason, as what prevents the delete, and nothing is deleted.
    A write whose service is not named saves or deletes the model as Django's admin does; one whose service
    takes more than this (the signed-in user, say) overrides `create_row(request, form)` or
    `update_row(request, row, form)`, which return the row the service wrote, or `delete_row(request, row)`.
    The form should run the same rules (ServiceRulesForm), so that a refusal is a form error, not an error page.
    """

    create_service = None
    update_service = None
    delete_service = None
    delete_check_service = None
    instance_kwarg = ""
    service_fields: tuple[str, ...] = ()
    fixed_fields: tuple[str, ...] = ()

    def _service(self, operation: str):
        # Read from the class: a function stored on it is not bound to the admin there.
        return getattr(type(self), f"{operation}_service")

    def create_row(self, request, form):
        service = self._service("create")
        if service is None:
            form.instance.save()
            return form.instance
        fixed = {name: form.cleaned_data.get(name) for name in self.fixed_fields}
        return service(**fixed, **cleaned_fields(form, self.service_fields))

    def update_row(self, request, row, form):
        service = self._service("update")
        if service is None:
            form.instance.save()
            return form.instance
        return service(**{self.instance_kwarg: row}, **cleaned_fields(form, self.service_fields))

    def delete_row(self, request, row) -> None:
        service = self._service("delete")
        if service is None:
            row.delete()
        else:
            service(**{self.instance_kwarg: row})

    def delete_check(self, row) -> None:
        service = self._service("delete_check")
        if service is not None:
            service(**{self.instance_kwarg: row})

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


class ServiceWritesFormSetMixin:
    """An inline formset whose new, changed and removed rows go through the domain's services, as
    ServiceWritesAdminMixin does for a page. A subclass overrides the writes it routes:
    `create_row(form)` and `update_row(form, row)` return the row the service wrote, `delete_row(row)`
    removes it; a write it does not override is the formset's own."""

    def create_row(self, form):
        return super().save_new(form)

    def update_row(self, form, row):
        return super().save_existing(form, row)

    def delete_row(self, row) -> None:
        super().delete_existing(row)

    def save_new(self, form, commit=True):
        return self.create_row(form) if commit else super().save_new(form, commit=False)

    def save_existing(self, form, obj, commit=True):
        return self.update_row(form, obj) if commit else super().save_existing(form, obj, commit=False)

    def delete_existing(self, obj, commit=True):
        if commit:
            self.delete_row(obj)
