"""The Content-Security-Policy in a real browser: the admin and every API host's docs work under it, with no
violation (the action page's own tests check it there, end to end)."""

from urllib.parse import urlsplit

import pytest

from salesassist.hosts import API_SUBDOMAINS
from tests.crm.factories import UserFactory

from .browser import needs_chromium, open_page

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def page(browser):
    context, page = open_page(browser)
    yield page
    context.close()


def on_host(live_server, subdomain: str | None, path: str) -> str:
    port = urlsplit(live_server.url).port
    host = f"{subdomain}.localhost" if subdomain else "localhost"
    return f"http://{host}:{port}{path}"


@pytest.mark.django_db(transaction=True)
def test_the_admin_logs_in_and_edits_under_the_policy(live_server, page):
    UserFactory(username="root", password="a-long-test-password", is_staff=True, is_superuser=True)
    page.goto(on_host(live_server, None, "/admin/login/"))
    page.fill("#id_username", "root")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name", timeout=10_000)
    # A change form with an inline: adding a row is the admin's own script at work.
    page.goto(on_host(live_server, None, "/admin/crm/company/add/"))
    rows = "#memberships-group tr.form-row:not(.empty-form)"
    before = page.locator(rows).count()
    page.click("#memberships-group .add-row a")
    assert page.locator(rows).count() == before + 1
    assert not page.csp_violations


# The action-engine schema (its webhooks included) is half a megabyte: Redoc takes a while on a busy machine.
DOCS_RENDER_TIMEOUT = 60_000


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
@pytest.mark.parametrize("host_name", API_SUBDOMAINS)
def test_the_api_docs_render_under_their_policy(live_server, page, host_name):
    page.goto(on_host(live_server, API_SUBDOMAINS[host_name], "/v1/docs/"))
    page.wait_for_selector(".swagger-ui .opblock", timeout=DOCS_RENDER_TIMEOUT)
    assert "SalesAssist" in page.inner_text(".swagger-ui .info .title")
    assert not page.csp_violations
    page.goto(on_host(live_server, API_SUBDOMAINS[host_name], "/v1/redoc/"))
    page.wait_for_selector("redoc h1", timeout=DOCS_RENDER_TIMEOUT)
    assert "SalesAssist" in page.inner_text("redoc h1")
    assert not page.csp_violations


DOCS_PAGES = {"/v1/docs/": ".swagger-ui .opblock", "/v1/redoc/": "redoc h1"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
@pytest.mark.parametrize("host_name", API_SUBDOMAINS)
@pytest.mark.parametrize("docs_path", DOCS_PAGES)
def test_the_docs_pages_load_nothing_from_outside_the_server(live_server, page, host_name, docs_path):
    """Every request the page makes, its scripts' included, goes to the server that served it (no CDN, no
    fonts, no logo): the machines that run this have no internet."""
    origin = on_host(live_server, API_SUBDOMAINS[host_name], "")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(origin + docs_path)
    page.wait_for_selector(DOCS_PAGES[docs_path], timeout=DOCS_RENDER_TIMEOUT)
    page.wait_for_load_state("networkidle")
    outside = [url for url in requested if not url.startswith((origin + "/", "data:", "blob:"))]
    assert requested and not outside
    assert not page.csp_violations
