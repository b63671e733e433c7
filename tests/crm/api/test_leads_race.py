"""Two writes of one email at once: the database constraint decides, and the loser gets a 400 field error."""
import threading
import time

import pytest
from django.db import connection, transaction

from conftest import host_client
from crm.models import Lead
from crm.services import lead_create
from salesassist.hosts import CRM_API

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row-level locking (PostgreSQL)")
def test_a_concurrent_duplicate_is_a_field_error_not_a_500(company, api_key):
    inserted, release = threading.Event(), threading.Event()

    def first_writer():
        try:
            with transaction.atomic():
                lead_create(company=company, email="race@example.com")
                inserted.set()
                # Hold the row uncommitted: the API request below passes the dedupe check, then waits on the
                # unique index until this commits, and fails there.
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert inserted.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    response = host_client(CRM_API, api_key.token).post("/v1/leads", {"email": "RACE@example.com"}, format="json")
    thread.join(10)

    assert time.monotonic() - started >= 0.4  # it really waited for the first transaction
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"email": ["Another lead of this company has this email address."]}
    assert Lead.objects.filter(company=company, email_normalized="race@example.com").count() == 1
