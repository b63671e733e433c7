"""The page SDK (/sdk/salesassist.js) on a company's own page: another origin, a strict Content-Security-Policy,
a network that fails, a browser that goes offline. Debian's Chromium, the app's live server for the SDK and the
API, and a second HTTP server on another 127.0.0.1 port for the company's page."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import Engagement
from action_engine.services import action_company_share
from crm.models import Visitor
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    ActionTypeFactory,
    FormFactory,
    ModuleFactory,
)
from tests.crm.factories import CompanyFactory, LeadFactory
from tests.e2e.browser import needs_chromium, open_page

pytestmark = [pytest.mark.e2e, needs_chromium]

# The company's page: the SDK from the app's default host, its own script from its own origin, nothing inline.
LANDING_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Spring offer</title>
<script src="{sdk}"></script><script src="/landing.js" defer></script></head>
<body><p id="state">loading</p></body></html>"""
LANDING_JS = """
window.client = SalesAssist.client();
client.opened().then(function (result) {
  window.openedResult = result;
  document.getElementById("state").textContent = "opened";
});
window.sent = [];
window.addEventListener("salesassist:sent", function (event) { window.sent.push(event.detail); });
"""


class CompanyPage(BaseHTTPRequestHandler):
    """The company's own web server: its landing page and script, under a strict policy of its own."""

    sdk_url = ""
    api_origin = ""

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/landing":
            body, content_type = LANDING_HTML.format(sdk=self.sdk_url).encode(), "text/html; charset=utf-8"
        elif path == "/landing.js":
            body, content_type = LANDING_JS.encode(), "text/javascript"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        sdk_origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.sdk_url))
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src 'self' {sdk_origin}; connect-src {self.api_origin}",
        )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def company_site(live_server):
    """The second server; its port: E2E_COMPANY_SITE_PORT, or any free one."""
    port = urlsplit(live_server.url).port
    handler = type(
        "Handler",
        (CompanyPage,),
        {
            "sdk_url": f"http://localhost:{port}/sdk/salesassist.js",
            "api_origin": f"http://api.action-engine.localhost:{port}",
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("E2E_COMPANY_SITE_PORT", "0"))), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):
    context, page = open_page(browser)
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_company_page_records_through_failures_and_offline_with_its_attribution(company_site, page):
    company = CompanyFactory(settings={"cors_origins": [company_site]})
    action = ActionFactory(system=ActionSystemFactory(slug=SystemSlug.FORMS), type=ActionTypeFactory(slug="form"))
    action_company = ActionCompanyFactory(
        company=company,
        action=action,
        page_url=f"{company_site}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    )
    form = FormFactory(company=company)
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM, form=form)
    lead = LeadFactory(company=company)
    shared = action_company_share(action_company=action_company, lead=lead)

    # The network fails for the first two engagement posts; every post is kept with its key.
    posts = []

    def engagements(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request)
        return route.abort("connectionfailed") if len(posts) <= 2 else route.continue_()

    page.route("**/v1/public/engagements", engagements)
    page.goto(shared.url, referer="https://mail.example.com/inbox")
    page.wait_for_selector("#state:text('opened')", timeout=20_000)
    assert page.evaluate("window.openedResult.ok") is True, page.console_messages

    opened = Engagement.objects.get(lead=lead, stage=Stage.OPENED)
    assert opened.visitor == shared.visitor
    keys = {post.header_value("idempotency-key") for post in posts}
    assert len(posts) == 3 and keys == {f"opened-{action_company.uuid}-{shared.visitor.uuid}"}
    assert opened.idempotency_key == f"public:{keys.pop()}"
    landing = f"{company_site}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    assert opened.meta["utm_source"] == "newsletter" and opened.meta["utm_campaign"] == "spring"
    assert opened.meta["referrer"].startswith("https://mail.example.com/")
    # The landing URL is the page's, without the link's token (the lead and visitor uuids stay).
    assert opened.meta["landing_url"].startswith(landing) and "token=" not in opened.meta["landing_url"]
    assert Visitor.objects.get(pk=shared.visitor.pk).first_touch == opened.meta

    # A 4xx is final: one post, no retry, nothing queued.
    refused = page.evaluate("client.record('purchased', {})")
    assert refused["status"] == 400 and refused["queued"] is False and len(posts) == 4

    # Offline, a submission waits in localStorage with its key and goes out when the browser is back online.
    page.context.set_offline(True)
    message = {"form": str(form.uuid), "data": {"email": "ada@example.com"}}
    queued = page.evaluate("message => client.record('submitted', message)", message)
    assert queued["queued"] is True
    (entry,) = json.loads(page.evaluate("localStorage.getItem('salesassist.queue')"))
    assert not Engagement.objects.filter(lead=lead, stage=Stage.SUBMITTED).exists()
    page.context.set_offline(False)
    page.wait_for_function("() => window.sent.length === 1", timeout=20_000)
    assert page.evaluate("window.sent[0].status") == 201
    assert page.evaluate("localStorage.getItem('salesassist.queue')") is None
    submitted = Engagement.objects.get(lead=lead, stage=Stage.SUBMITTED)
    assert submitted.idempotency_key == f"public:{entry['key']}"
    assert submitted.message.body == message and submitted.meta == opened.meta
    assert Engagement.objects.filter(lead=lead).count() == 3  # sent, opened, submitted: each once
    assert not page.csp_violations
