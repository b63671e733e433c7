"""The management commands: seed_demo (idempotent demo data) and create_api_key (prints the key once)."""
import hashlib
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse

from action_engine.choices import ModuleKind, SystemSlug
from action_engine.models import ActionCompany
from crm.choices import ApiKeyAccess
from crm.models import ApiKey, Company
from products.models import Content, Product

pytestmark = pytest.mark.django_db


def _run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _every_row() -> dict[str, list[dict]]:
    """Every row of every table, soft-deleted ones included, in a stable order."""
    return {model._meta.label: list(model._base_manager.order_by("pk").values()) for model in apps.get_models()}


# ---------------------------------------------------------------- seed_demo


def test_seed_demo_twice_leaves_exactly_the_same_rows():
    first_out, _ = _run("seed_demo")
    after_first = _every_row()
    second_out, _ = _run("seed_demo")
    assert _every_row() == after_first  # same rows, same uuids, same values, nothing touched
    assert "0 found" in first_out and "0 created" in second_out


def test_seed_demo_builds_the_demo_company(client):
    out, _ = _run("seed_demo")
    company = Company.objects.get(slug="acme-demo")
    assert company.name == "Acme Demo" and company.settings
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and user.is_superuser and user.check_password("demo-password-123")
    assert list(company.members.all()) == [user]
    assert company.leads.count() == 5
    products = Product.objects.filter(company=company)
    assert products.count() == 3 and all(product.variants.exists() for product in products)
    content_rows = Content.objects.filter(company=company)
    assert set(content_rows.values_list("kind", flat=True)) == {"document", "video", "article"}
    # Every piece of content has something behind it: a shipped file or an article's body, no dead URL.
    for content in content_rows:
        assert not content.url and (content.body or content.file.storage.exists(content.file.name)), content.title
    (form,) = company.forms.all()
    assert set(form.schema["properties"]) == {"name", "email", "company", "message"}

    expected_kinds = {
        SystemSlug.FORMS: ModuleKind.FORM,
        SystemSlug.COMMERCE: ModuleKind.PRODUCT,
        SystemSlug.CONTENT: ModuleKind.CONTENT,
    }
    actions = ActionCompany.objects.filter(company=company).select_related("action__system")
    assert {a.action.system.slug for a in actions} == set(expected_kinds)
    for action_company in actions:
        assert action_company.action.company is None  # built on the global catalogue
        assert action_company.receivers.filter(is_active=True).count() == 1
        modules = list(action_company.modules.order_by("position"))
        assert modules and {m.kind for m in modules} == {expected_kinds[action_company.action.system.slug]}
        assert [m.position for m in modules] == list(range(len(modules)))
        assert all(m.target.company_id == company.pk for m in modules)
        assert str(action_company.uuid) in out

    assert "/admin/" in out and "demo" in out
    # django-axes watches every login and needs the request it comes with.
    assert client.login(request=HttpRequest(), username="demo", password="demo-password-123")
    assert client.get(reverse("admin:index"), HTTP_HOST="localhost").status_code == 200


def test_seed_demo_puts_back_a_missing_demo_file():
    _run("seed_demo")
    brochure = Content.objects.get(title="Product brochure")
    brochure.file.storage.delete(brochure.file.name)
    _run("seed_demo")
    brochure.refresh_from_db()
    assert brochure.file.read().startswith(b"%PDF-")


def test_seed_demo_sets_the_given_password_and_keeps_it():
    _run("seed_demo", password="another-password-456")
    _run("seed_demo", password="another-password-456")
    assert get_user_model().objects.get(username="demo").check_password("another-password-456")


# ---------------------------------------------------------------- create_api_key


def test_create_api_key_prints_the_key_last_and_stores_only_its_hash(company):
    out, err = _run("create_api_key", company="acme", name="Zapier")
    token = out.strip().splitlines()[-1]
    api_key = ApiKey.objects.get(company=company)
    assert api_key.hashed_key == hashlib.sha256(token.encode()).hexdigest()
    assert api_key.name == "Zapier" and api_key.access == ApiKeyAccess.READ_WRITE
    assert api_key.prefix in token and api_key.prefix in err
    assert token not in err
    assert token not in repr(_every_row())  # the key itself is stored nowhere


@pytest.mark.parametrize("identifier", ["uuid", "slug", "name"])
def test_create_api_key_finds_the_company_by_uuid_slug_or_name(company, other_company, identifier):
    value = {"uuid": str(company.uuid), "slug": company.slug, "name": company.name.upper()}[identifier]
    _run("create_api_key", company=value)
    assert ApiKey.objects.get().company == company


def test_create_api_key_read_only(company):
    out, _ = _run("create_api_key", "--read-only", company=company.slug)
    api_key = ApiKey.objects.get(company=company)
    assert api_key.access == ApiKeyAccess.READ_ONLY
    assert api_key.hashed_key == hashlib.sha256(out.strip().encode()).hexdigest()


@pytest.mark.parametrize("identifier", ["no-such-company", "5f0c3a4e-0000-4000-8000-000000000000"])
def test_create_api_key_for_an_unknown_company_is_an_error(company, identifier):
    with pytest.raises(CommandError, match="No company"):
        _run("create_api_key", company=identifier)
    assert not ApiKey.objects.exists()


def test_create_api_key_refuses_an_ambiguous_name(db):
    Company.objects.create(name="Twin", slug="twin-1")
    Company.objects.create(name="twin", slug="twin-2")
    with pytest.raises(CommandError, match="More than one"):
        _run("create_api_key", company="Twin")
