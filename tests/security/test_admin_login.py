"""Admin logins are locked out after repeated failures (django-axes, kept in the database): by username
and client address, shown to superusers in admin, and lifted there or with `manage.py axes_reset`."""
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_hosts.resolvers import reverse_host

from salesassist.hosts import DEFAULT
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-42"


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def behind_a_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def _log_in(password: str, client_address: str = "203.0.113.9", client: Client | None = None):
    client = client or Client(HTTP_HOST=reverse_host(DEFAULT))
    # One proxy in front (NUM_PROXIES=1) appends the address it saw; what the client sent before is ignored.
    response = client.post(
        reverse("admin:login"),
        {"username": "root", "password": password, "next": reverse("admin:index")},
        HTTP_X_FORWARDED_FOR=f"198.51.100.77, {client_address}",
    )
    return client, response


def _signed_in(client: Client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def test_fifty_wrong_passwords_lock_the_admin_out_until_a_superuser_resets_it(admin_user, behind_a_proxy):
    statuses = [_log_in("wrong-password")[1].status_code for _ in range(50)]
    assert statuses[0] == 200  # the login form again, with its error
    assert set(statuses[5:]) == {429}

    client, response = _log_in(PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and "root" in page and "axes_reset" in page
    assert not _signed_in(client)

    # The same user from another address is not locked out by the first one's failures.
    other, response = _log_in(PASSWORD, client_address="203.0.113.10")
    assert response.status_code == 302 and _signed_in(other)

    from axes.models import AccessAttempt, AccessFailureLog  # here, so that without axes the test fails, not its file

    attempt = AccessAttempt.objects.get(username="root")
    assert attempt.ip_address == "203.0.113.9" and attempt.failures_since_start >= 5
    assert AccessFailureLog.objects.filter(username="root", locked_out=True).exists()

    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = other.get(changelist, {"locked_out": "yes"})
    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [attempt.pk]
    assert other.get(reverse("admin:axes_accessfailurelog_changelist")).context["cl"].result_count >= 45
    reset = other.post(changelist, {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert reset.status_code == 302
    assert not AccessAttempt.objects.exists()

    client, response = _log_in(PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_axes_reset_lifts_a_lockout(admin_user, behind_a_proxy):
    for _ in range(5):
        _log_in("wrong-password")
    assert _log_in(PASSWORD)[1].status_code == 429
    call_command("axes_reset")
    client, response = _log_in(PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_company_staff_do_not_see_login_attempts(staff_user, admin_user):
    staff_user.is_staff = True
    staff_user.save()
    _log_in("wrong-password")
    client = Client(HTTP_HOST=reverse_host(DEFAULT))
    client.force_login(staff_user)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert "axes" not in {app["app_label"] for app in client.get(reverse("admin:index")).context["app_list"]}


def test_a_forged_forwarded_address_is_not_a_server_error(admin_user, settings):
    # Two proxies configured, one in front: the hop taken is what the client wrote. The peer's address
    # is counted instead, and the attempt is stored in the address column without a database error.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    client = Client(HTTP_HOST=reverse_host(DEFAULT))
    response = client.post(
        reverse("admin:login"),
        {"username": "root", "password": "wrong-password"},
        HTTP_X_FORWARDED_FOR="not-an-address, 203.0.113.9",
    )
    assert response.status_code == 200

    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="root").ip_address == "127.0.0.1"
