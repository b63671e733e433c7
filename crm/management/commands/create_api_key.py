"""Make an API key for a company. The key is printed alone on the last line of stdout (so
`KEY=$(manage.py create_api_key --company acme-demo)` works); what it is goes to stderr."""
import uuid

from django.core.management.base import BaseCommand, CommandError

from crm.choices import ApiKeyAccess
from crm.models import Company
from crm.services import api_key_create


def company_for_identifier(identifier: str) -> Company:
    """The company whose uuid, slug or name (case-insensitive) is `identifier`."""
    identifier = identifier.strip()
    try:
        return Company.objects.get(uuid=uuid.UUID(identifier))
    except (ValueError, Company.DoesNotExist):
        pass
    company = Company.objects.filter(slug=identifier).first()
    if company is not None:
        return company
    by_name = list(Company.objects.filter(name__iexact=identifier)[:2])
    if len(by_name) > 1:
        raise CommandError(f"More than one company is named {identifier!r}; give its uuid or slug.")
    if not by_name:
        raise CommandError(f"No company has the uuid, slug or name {identifier!r}.")
    return by_name[0]


class Command(BaseCommand):
    help = "Create an API key for a company and print it (once: only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="The company's uuid, slug or name.")
        parser.add_argument("--name", default="Command line", help="What the key is for (shown in admin).")
        parser.add_argument("--read-only", action="store_true", help="A key that can only read.")

    def handle(self, *args, company: str, name: str, read_only: bool, **options):
        target = company_for_identifier(company)
        access = ApiKeyAccess.READ_ONLY if read_only else ApiKeyAccess.READ_WRITE
        api_key, token = api_key_create(company=target, name=name, access=access)
        self.stderr.write(
            f"Created {api_key.get_access_display().lower()} API key {name!r} (prefix {api_key.prefix}) "
            f"for {target.name} ({target.slug}). It is shown only now:"
        )
        self.stdout.write(token)
