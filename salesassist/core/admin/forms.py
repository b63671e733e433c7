"""Admin forms and formsets: what the database would refuse is a form error, and inlines show recent rows."""
from django import forms
from django.core.exceptions import ValidationError
from django.db import models, router
from django.forms.models import BaseInlineFormSet


class ConstraintCheckingForm(forms.ModelForm):
    """A model form that also checks the database constraints mentioning fields it does not edit.

    Django skips a constraint when one of its fields (or a field in its condition) is not on the
    form; every soft-delete uniqueness condition mentions `deleted_at`, so without this a clash
    would reach the database and answer a 500 instead of a form error.
    """

    # Fields the model fills itself: their values on the instance are already right for the check.
    model_filled_fields = ("deleted_at",)
    # constraint name -> (form field, message), for clashes people should read as a sentence.
    constraint_messages: dict[str, tuple[str, str]] = {}

    def validate_unique(self):
        super().validate_unique()
        if self._errors:  # the normal pass already reported; don't report the same clash twice
            return
        model = self.instance._meta.model
        exclude = self._get_validation_exclusions() - set(self.model_filled_fields)
        for constraint in self.instance._meta.constraints:
            try:
                constraint.validate(model, self.instance, exclude=exclude, using=router.db_for_write(model))
            except ValidationError as error:
                field, message = self.constraint_messages.get(constraint.name, (None, error))
                self.add_error(field if field in self.fields else None, message)


class UniqueRowsFormSet(BaseInlineFormSet):
    """Refuses two submitted rows that clash on one of the model's conditional unique constraints.

    Django's formset compares rows on unconditional constraints only. Our conditions only leave out
    empty values (no SKU, no reference), so rows with an empty value in the constraint are skipped.
    """

    def clean(self):
        super().clean()
        for constraint in self.model._meta.constraints:
            if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is None:
                continue
            fields = [name for name in constraint.fields if name != self.fk.name]
            seen = set()
            for form in self.forms:
                cleaned_data = getattr(form, "cleaned_data", None)
                if not cleaned_data or cleaned_data.get("DELETE"):
                    continue
                key = tuple(cleaned_data.get(name) for name in fields)
                if not key or any(value in (None, "") for value in key):
                    continue
                if key in seen:
                    form.add_error(fields[0] if fields[0] in form.fields else None, "Another row has the same value.")
                seen.add(key)


class RecentRowsFormSet(BaseInlineFormSet):
    """Only the newest `recent_limit` rows of the inline (the model's ordering is newest first)."""

    recent_limit = 20

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = self.queryset[: self.recent_limit]
