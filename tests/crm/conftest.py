"""Fixtures of the lead receiver tests: an anonymous CRM client."""

import pytest

from conftest import host_client
from salesassist.hosts import CRM_API


@pytest.fixture
def public_crm(db):
    """The CRM host without an API key, as a third party posting leads calls it."""
    return host_client(CRM_API)
