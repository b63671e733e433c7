"""Fixtures of the lead receiver tests: an anonymous CRM client, and rate-limit counters from zero."""

import pytest
from django.core.cache import cache

from conftest import host_client
from salesassist.hosts import CRM_API


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counters live in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public_crm(db):
    """The CRM host without an API key, as a third party posting leads calls it."""
    return host_client(CRM_API)
