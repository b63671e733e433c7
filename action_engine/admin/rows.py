"""Rows that link a parent (an action, a company action) to what it shows or runs (a product, content or
form; a workflow): checked against the parent the same way in the parent's inline and on their own page.
The workflows app uses these for its links too."""
from django.forms.models import BaseInlineFormSet

from salesassist.core.admin import ConstraintCheckingForm


class LinkRowsFormSet(BaseInlineFormSet):
    """Checks each kept row against the parent (`self.instance`) and refuses the same target twice."""

    row_errors = staticmethod(lambda parent, cleaned_data: {})
    row_key = staticmethod(lambda cleaned_data: None)

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            cleaned_data = getattr(form, "cleaned_data", None)
            if not cleaned_data or cleaned_data.get("DELETE"):
                continue
            for field, message in self.row_errors(self.instance, cleaned_data).items():
                form.add_error(field, message)
            key = self.row_key(cleaned_data)
            if key is not None and key in seen:
                form.add_error(None, "This is already on the list.")
            seen.add(key)


class LinkRowForm(ConstraintCheckingForm):
    """A link row on its own admin page: the same checks as in its parent's inline."""

    parent_field = ""
    row_errors = staticmethod(lambda parent, cleaned_data: {})

    def clean(self):
        cleaned_data = super().clean()
        for field, message in self.row_errors(cleaned_data.get(self.parent_field), cleaned_data).items():
            self.add_error(field, message)
        return cleaned_data
