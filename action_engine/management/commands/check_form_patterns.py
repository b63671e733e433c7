"""List the forms whose patterns RE2 cannot compile (saved before patterns were checked on save)."""

from django.core.management.base import BaseCommand, CommandError

from action_engine.selectors import forms_with_unsupported_patterns


class Command(BaseCommand):
    help = (
        "List every form with a pattern RE2 cannot compile: its submissions are refused until the company "
        "fixes the schema. Exits non-zero when there is one."
    )

    def handle(self, *args, **options):
        count = 0
        for form, errors in forms_with_unsupported_patterns():
            count += 1
            self.stdout.write(f"{form.company.slug}  form {form.uuid}  {form.name!r}")
            for error in errors:
                self.stdout.write(f"    {error}")
        if count:
            raise CommandError(f"{count} form(s) have patterns RE2 cannot compile; their submissions are refused.")
        self.stdout.write("Every form's patterns compile with RE2.")
