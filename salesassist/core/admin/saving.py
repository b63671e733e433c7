"""Admins that write through services: the service's checks as form errors, its writes for the admin's."""
from ..exceptions import InvalidInput
from .forms import ConstraintCheckingForm


class ServiceCheckedForm(ConstraintCheckingForm):
    """A model form that also runs its service's checks on the instance it built: a refusal is a form error."""

    def service_check(self, instance) -> None:
        """Call the service's `<entity>_validate` on `instance`."""
        raise NotImplementedError

    def validate_unique(self):
        # Django calls this once the instance holds the form's values, so the service's checks see them.
        super().validate_unique()
        if self._errors:
            return
        try:
            self.service_check(self.instance)
        except InvalidInput as error:
            for field, messages in (error.errors or {None: [error.detail]}).items():
                self.add_error(field if field in self.fields else None, messages)


def adopt_saved_row(obj, saved) -> None:
    """Turn the admin's unsaved `obj` into the row a service just created.

    Adds that must go through a service (which makes related rows in the same transaction) call it
    from `save_model`; the add view's inline formsets, log entry and redirect then see the new row.
    """
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ServiceWritesMixin:
    """A model admin whose adds, changes and deletes are the entity's services (`service_*`); without a
    `service_delete` a delete is the admin's own."""

    service_fields: tuple[str, ...] = ()  # the form fields the create and update services take
    service_delete = None

    def service_create(self, obj, fields: dict):
        """Create the row `obj` (unsaved, with the form's values) describes; return the service's row."""
        raise NotImplementedError

    def service_update(self, obj, fields: dict) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in self.service_fields if name in form.cleaned_data}
        if change:
            self.service_update(obj, fields)
        else:
            adopt_saved_row(obj, self.service_create(obj, fields))

    def delete_model(self, request, obj):
        if self.service_delete is None:
            return super().delete_model(request, obj)
        self.service_delete(obj)

    def delete_queryset(self, request, queryset):
        if self.service_delete is None:
            return super().delete_queryset(request, queryset)
        for obj in queryset:
            self.service_delete(obj)
