"""Fixtures shared by every test: companies, staff, API keys and one API client per host."""
import pytest
from django.core.cache import cache
from django_hosts.resolvers import reverse_host
from rest_framework.test import APIClient

from crm.choices import ApiKeyAccess, MembershipRole
from salesassist.hosts import ACTION_ENGINE_API, CRM_API, DEFAULT, PRODUCTS_API
from tests.crm.factories import ApiKeyFactory, CompanyFactory, CompanyMembershipFactory, UserFactory


def host_client(host_name: str, token: str | None = None) -> APIClient:
    """A client whose every request carries the host's name (the test client ignores URL hosts)."""
    client = APIClient(HTTP_HOST=reverse_host(host_name))
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """PBKDF2's million iterations cost a third of a second for every user a test makes or logs in; what the
    tests check of passwords does not depend on the hasher. Servers a test starts in another process keep the
    production hashers, so a user they must log in needs its password hashed by one of those."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters (failed API keys among them) and cached CORS origins live in the cache: every test
    starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploads (content files, the demo's among them) go to a folder of the test's own, never the project's."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme", slug="acme")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Globex", slug="globex")


@pytest.fixture
def staff_user(company):
    user = UserFactory(username="staff")
    CompanyMembershipFactory(company=company, user=user, role=MembershipRole.ADMIN)
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def api_key(company):
    return ApiKeyFactory(company=company, access=ApiKeyAccess.READ_WRITE)


@pytest.fixture
def read_only_key(company):
    return ApiKeyFactory(company=company, access=ApiKeyAccess.READ_ONLY)


@pytest.fixture
def other_api_key(other_company):
    return ApiKeyFactory(company=other_company, access=ApiKeyAccess.READ_WRITE)


@pytest.fixture
def crm_api(api_key):
    return host_client(CRM_API, api_key.token)


@pytest.fixture
def products_api(api_key):
    return host_client(PRODUCTS_API, api_key.token)


@pytest.fixture
def action_engine_api(api_key):
    return host_client(ACTION_ENGINE_API, api_key.token)


@pytest.fixture
def default_client(db):
    return host_client(DEFAULT)


@pytest.fixture
def admin_client(superuser):
    """Django's test client on the default host, signed in as a superuser."""
    from django.test import Client

    client = Client(HTTP_HOST=reverse_host(DEFAULT))
    client.force_login(superuser)
    return client
