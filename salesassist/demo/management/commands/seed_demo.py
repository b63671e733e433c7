"""Load a small demo: a company, its staff login, leads, products, content, a form and one company action
per action system. Idempotent: every row is found by a stable natural key, so running it again changes
nothing (except resetting the demo login's password to the one given)."""
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction
from django_hosts.resolvers import reverse

from action_engine.choices import ModuleKind, SystemSlug
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Form,
)
from action_engine.services import action_company_create
from crm.choices import LeadStatus, MembershipRole
from crm.models import Company, Lead
from crm.services import company_membership_add, lead_create
from products.choices import ContentKind
from products.models import Content, Product, Variant
from salesassist.hosts import DEFAULT as DEFAULT_HOST

DEMO_FILES = Path(__file__).resolve().parents[2] / "content"

COMPANY = {"slug": "acme-demo", "name": "Acme Demo", "settings": {"link_ttl_days": 30, "cors_origins": []}}
USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password-123"

LEADS = [
    {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@example.com".lower(),
        "status": status,
        "source": "demo",
    }
    for first, last, status in [
        ("Ada", "Lovelace", LeadStatus.QUALIFIED),
        ("Alan", "Turing", LeadStatus.CONTACTED),
        ("Grace", "Hopper", LeadStatus.NEW),
        ("Edsger", "Dijkstra", LeadStatus.NEW),
        ("Barbara", "Liskov", LeadStatus.CUSTOMER),
    ]
]

PRODUCTS = [
    {
        "sku": "TEE",
        "name": "Logo T-shirt",
        "description": "Organic cotton, printed in Lisbon.",
        "price": Decimal("25.00"),
        "attributes": {"material": "cotton"},
        "variants": [
            ("TEE-S", "Small", Decimal("25.00")),
            ("TEE-M", "Medium", Decimal("25.00")),
            ("TEE-L", "Large", Decimal("27.00")),
        ],
    },
    {
        "sku": "MUG",
        "name": "Enamel mug",
        "description": "Keeps coffee hot through a long demo.",
        "price": Decimal("14.50"),
        "attributes": {"capacity_ml": 350},
        "variants": [("MUG-WHT", "White", Decimal("14.50")), ("MUG-BLK", "Black", Decimal("14.50"))],
    },
    {
        "sku": "PLAN-PRO",
        "name": "Pro plan",
        "description": "A year of the Pro plan.",
        "price": Decimal("990.00"),
        "attributes": {"billing": "yearly"},
        "variants": [
            ("PLAN-PRO-1Y", "One year", Decimal("990.00")),
            ("PLAN-PRO-2Y", "Two years", Decimal("1790.00")),
        ],
    },
]

CONTENT = [
    # Files shipped beside this command (salesassist/demo/content/), uploaded to the default storage like an
    # admin upload; the engine serves them to the pages that show them.
    {"title": "Product brochure", "kind": ContentKind.DOCUMENT, "file": "acme-brochure.pdf"},
    {"title": "Five-minute tour", "kind": ContentKind.VIDEO, "file": "acme-tour.webm"},
    {
        "title": "How Acme customers save time",
        "kind": ContentKind.ARTICLE,
        # No URL: the engine serves an article itself (`/a/<action>/content/<content>/`, and as a text file).
        "body": (
            "Three customers tell how they cut their weekly reporting from hours to minutes.\n\n"
            "A bakery chain stopped copying orders from email into spreadsheets: each order form now lands in "
            "its CRM the moment a customer sends it.\n\n"
            "A software reseller sends every lead a personal link to its price list and sees who opened it and "
            "who downloaded the offer, so its sales team calls the right people first.\n\n"
            "A training company lets its students book and pay for courses from one page; the booking reaches "
            "its scheduling tool and its accounting within seconds."
        ),
    },
]

CONTACT_FORM = {
    "name": "Contact form",
    "description": "Tell us about your project.",
    "schema": {
        "type": "object",
        "required": ["name", "email"],
        "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 100},
            "email": {"type": "string", "title": "Email", "format": "email"},
            "company": {"type": "string", "title": "Company", "maxLength": 200},
            "message": {"type": "string", "title": "Message", "maxLength": 2000},
        },
    },
    "submit_label": "Send",
    "success_message": "Thanks! We will be in touch within a day.",
}

# Global catalogue actions: (slug, name, type slug, system, data type slug or None).
CATALOGUE = [
    ("contact-form", "Contact form", "form", SystemSlug.FORMS, None),
    ("buy-products", "Buy products", "commerce", SystemSlug.COMMERCE, "product"),
    ("read-documents", "Read documents", "document", SystemSlug.CONTENT, "content"),
]

# What each system's demo action shows.
MODULE_KIND = {
    SystemSlug.FORMS: ModuleKind.FORM,
    SystemSlug.COMMERCE: ModuleKind.PRODUCT,
    SystemSlug.CONTENT: ModuleKind.CONTENT,
}

# The demo company's actions: (name, catalogue slug, description, config). The contact form is prefilled
# with the lead's name and email (off unless a company action's config lists the fields).
COMPANY_ACTIONS = [
    ("Contact us", "contact-form", "The contact form on our action page.", {"prefill": ["name", "email"]}),
    ("Shop", "buy-products", "Buy our merchandise and plans.", {}),
    ("Resources", "read-documents", "Our brochure, a video tour and a customer story.", {}),
]


class Command(BaseCommand):
    help = "Load the demo company, login, leads, products, content, form and company actions (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Password of the demo login.")

    def handle(self, *args, password: str, **options):
        self.counts: Counter = Counter()
        with transaction.atomic():
            company = self._company()
            self._user(company, password)
            for lead in LEADS:
                self._lead(company, lead)
            products = [self._product(company, spec) for spec in PRODUCTS]
            content = [self._content(company, spec) for spec in CONTENT]
            form = self._tally(
                "form", *Form.objects.get_or_create(company=company, name=CONTACT_FORM["name"], defaults=CONTACT_FORM)
            )
            targets = {SystemSlug.FORMS: [form], SystemSlug.COMMERCE: products, SystemSlug.CONTENT: content}
            action_companies = [self._company_action(company, *spec, targets) for spec in COMPANY_ACTIONS]
        self._summary(company, action_companies, password)

    def _tally(self, label: str, obj, created: bool):
        self.counts[(label, "created" if created else "found")] += 1
        return obj

    def _content(self, company: Company, spec: dict) -> Content:
        defaults = {key: value for key, value in spec.items() if key != "file"}
        content = self._tally(
            "content", *Content.objects.get_or_create(company=company, title=spec["title"], defaults=defaults)
        )
        # Demo content found without its file (its storage was emptied, or it predates the shipped files)
        # gets it again, so the page's Open and Download links work.
        if "file" in spec and not content.url and not content.file.storage.exists(content.file.name or "-"):
            with (DEMO_FILES / spec["file"]).open("rb") as shipped:
                content.file.save(spec["file"], File(shipped), save=True)
        return content

    def _company(self) -> Company:
        return self._tally(
            "company",
            *Company.objects.get_or_create(
                slug=COMPANY["slug"], defaults={"name": COMPANY["name"], "settings": COMPANY["settings"]}
            ),
        )

    def _user(self, company: Company, password: str) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "demo@example.com", "first_name": "Demo", "last_name": "User"}
        )
        self._tally("user", user, created)
        # The quick start prints this login: make sure it works, even after someone changed it.
        can_sign_in = user.is_staff and user.is_superuser and user.is_active and user.check_password(password)
        if created or not can_sign_in:
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
        if not company.memberships.filter(user=user).exists():  # keep an existing membership's role as it is
            company_membership_add(company=company, user=user, role=MembershipRole.OWNER)

    def _lead(self, company: Company, spec: dict) -> Lead:
        found = Lead.objects.filter(company=company, email=spec["email"]).first()
        return self._tally("lead", found or lead_create(company=company, **spec), found is None)

    def _product(self, company: Company, spec: dict) -> Product:
        fields = {key: value for key, value in spec.items() if key != "variants"}
        product = self._tally(
            "product", *Product.objects.get_or_create(company=company, sku=spec["sku"], defaults=fields)
        )
        for sku, name, price in spec["variants"]:
            found = Variant.objects.get_or_create(product=product, sku=sku, defaults={"name": name, "price": price})
            self._tally("variant", *found)
        return product

    def _catalogue_action(self, slug: str) -> Action:
        _, name, type_slug, system, data_type_slug = next(entry for entry in CATALOGUE if entry[0] == slug)
        return self._tally(
            "catalogue action",
            *Action.objects.get_or_create(
                company=None,
                slug=slug,
                defaults={
                    "name": name,
                    "type": ActionType.objects.get(slug=type_slug),
                    "system": ActionSystem.objects.get(slug=system),
                    "data_type": ActionDataType.objects.get(slug=data_type_slug) if data_type_slug else None,
                },
            ),
        )

    def _company_action(
        self, company: Company, name: str, action_slug: str, description: str, config: dict, targets: dict
    ) -> ActionCompany:
        action = self._catalogue_action(action_slug)
        action_company = ActionCompany.objects.filter(company=company, action=action, name=name).first()
        created = action_company is None
        if created:  # through the service, so it gets its receiver like any company action
            action_company = action_company_create(
                company=company, action=action, name=name, description=description, config=config
            )
        self._tally("company action", action_company, created)
        kind = MODULE_KIND[action.system.slug]
        for position, target in enumerate(targets[action.system.slug]):
            self._tally(
                "module",
                *ActionCompanySystemModule.objects.get_or_create(
                    action_company=action_company, kind=kind, **{kind.value: target}, defaults={"position": position}
                ),
            )
        return action_company

    def _summary(self, company: Company, action_companies: list[ActionCompany], password: str) -> None:
        labels = dict.fromkeys(label for label, _ in self.counts)
        for label in labels:
            created, found = self.counts[(label, "created")], self.counts[(label, "found")]
            self.stdout.write(f"  {label:<17} {created} created, {found} found")
        for action_company in action_companies:
            receiver = action_company.receivers.filter(is_active=True).first()
            self.stdout.write(
                f"  {action_company.name!r} ({action_company.action.system.slug}): action {action_company.uuid}"
                + (f", receiver {receiver.uuid}" if receiver else "")
            )
        admin_url = reverse("admin:index", host=DEFAULT_HOST, scheme="http")
        self.stdout.write(self.style.SUCCESS(f"Demo company {company.name!r} ({company.slug}) is ready."))
        self.stdout.write(f"Admin: {admin_url}  login: {USERNAME} / {password}")
