"""Admins that write through services: a service's refusal shown on the form, the row it made adopted."""
from django import forms

from ..exceptions import InvalidInput


def form_add_invalid_input(form: forms.BaseForm, error: InvalidInput) -> None:
    """Show a service's refusal on the form: each field's messages on that field, the rest above the form."""
    if not error.errors:
        form.add_error(None, error.detail)
    for field, messages in error.errors.items():
        form.add_error(field if field in form.fields else None, messages)


def adopt_saved_row(obj, saved) -> None:
    """Turn the admin's unsaved `obj` into the row a service just created.

    Adds that must go through a service (which makes related rows in the same transaction) call it
    from `save_model`; the add view's inline formsets, log entry and redirect then see the new row.
    """
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db
