"""The reference action page end to end: a live server, Debian's Chromium, a lead filling the form and buying.

The page (default host) and the API (api.action-engine) are both served by the live server; Chromium
resolves `*.localhost` to 127.0.0.1, so the page's cross-origin calls go through CORS like in production.
"""

import os
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import OperationalError

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import Engagement
from action_engine.services import action_company_share
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
from tests.products.factories import ContentFactory, ProductFactory, VariantFactory

PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR", "/tmp/salesassist-e2e"))

pytestmark = [pytest.mark.e2e, needs_chromium]

SIGNUP_SCHEMA = {
    "type": "object",
    "required": ["name", "email"],
    "properties": {
        "name": {"type": "string", "title": "Your name", "minLength": 2, "maxLength": 100},
        "email": {"type": "string", "title": "Email", "format": "email"},
        "seats": {"type": "integer", "title": "Seats", "minimum": 1, "maximum": 500},
        "plan": {"type": "string", "title": "Plan", "enum": ["starter", "pro"]},
        "newsletter": {"type": "boolean", "title": "Send me news"},
    },
}


@pytest.fixture
def phone_page(browser):
    context, page = open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()


def link_on_live_server(url: str, live_server) -> str:
    """The share URL, pointed at the live server's port (share builds it for PARENT_HOST's port)."""
    port = urlsplit(live_server.url).port
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"localhost:{port}"))


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            # SQLite's shared in-memory test database refuses a read while the server thread writes.
            pass
        time.sleep(0.1)
    return False


def _action(company, system, type_slug, name):
    action = ActionFactory(system=ActionSystemFactory(slug=system), type=ActionTypeFactory(slug=type_slug))
    return ActionCompanyFactory(company=company, action=action, name=name, description="Takes a minute.")


@pytest.mark.django_db(transaction=True)
def test_a_lead_fills_the_form_on_a_phone(live_server, phone_page):
    company = CompanyFactory(settings={"require_link_token": True})
    action_company = _action(company, SystemSlug.FORMS, "form", "Book your demo")
    # The company lets its page prefill the email; the name stays for the lead to type.
    action_company.config = {"prefill": ["email"]}
    action_company.save()
    form = FormFactory(company=company, schema=SIGNUP_SCHEMA, submit_label="Book it", success_message="See you soon!")
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM, form=form)
    lead = LeadFactory(company=company, first_name="Ada", last_name="Lovelace", email="ada@known.example.com")
    shared = action_company_share(action_company=action_company, lead=lead)

    page = phone_page
    posted = []
    page.on("request", lambda request: posted.append(request) if request.method == "POST" else None)
    page.goto(link_on_live_server(shared.url, live_server))
    page.wait_for_selector("#action-form", timeout=10_000)
    assert page.inner_text("#title") == "Book your demo"
    assert page.inner_text("#greeting") == "Hi Ada,"
    assert wait_for(lambda: Engagement.objects.filter(lead=lead, stage=Stage.OPENED).exists()), page.console_messages
    assert page.input_value("#field-email") == "ada@known.example.com"
    assert page.input_value("#field-name") == ""

    # The API's field errors are shown next to their fields.
    page.fill("#field-name", "Ada Lovelace")
    page.fill("#field-email", "not-an-email")
    page.click("button[type=submit]")
    page.wait_for_selector('[data-error-for="email"]:not([hidden])', timeout=10_000)
    assert page.inner_text('[data-error-for="email"]')
    assert not Engagement.objects.filter(lead=lead, stage=Stage.SUBMITTED).exists()

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "form-phone-errors.png"), full_page=True)

    page.fill("#field-email", "ada@example.com")
    page.fill("#field-seats", "12")
    page.select_option("#field-plan", "pro")
    page.check("#field-newsletter")
    page.click("button[type=submit]")
    page.wait_for_selector("#confirmation:not([hidden])", timeout=10_000)
    # The thank-you is said once: the form's own message, nothing besides it.
    assert page.inner_text("#confirmation") == "See you soon!"
    page.screenshot(path=str(SCREENSHOT_DIR / "form-phone-confirmation.png"), full_page=True)

    submitted = Engagement.objects.get(lead=lead, stage=Stage.SUBMITTED)
    assert submitted.visitor == shared.visitor
    assert submitted.previous_stage == Stage.OPENED
    assert submitted.message.body == {
        "form": str(form.uuid),
        "data": {"name": "Ada Lovelace", "email": "ada@example.com", "seats": 12, "plan": "pro", "newsletter": True},
    }
    # Every post carries an Idempotency-Key; the corrected form is a new submission with a new key.
    opened_key, refused_key, submitted_key = [request.header_value("idempotency-key") for request in posted]
    assert opened_key and refused_key and submitted_key and refused_key != submitted_key
    assert submitted.idempotency_key == f"public:{submitted_key}"
    # Reloading the page does not count a second opening.
    page.reload()
    page.wait_for_selector("#action-form", timeout=10_000)
    time.sleep(0.5)
    assert Engagement.objects.filter(lead=lead, stage=Stage.OPENED).count() == 1
    assert not page.csp_violations


@pytest.mark.django_db(transaction=True)
def test_a_lead_buys_on_a_phone(live_server, phone_page):
    company = CompanyFactory()
    action_company = _action(company, SystemSlug.COMMERCE, "commerce", "Spring offer")
    product = ProductFactory(company=company, name="Widget", price=Decimal("10.00"), currency="EUR")
    large = VariantFactory(product=product, name="Large", price=Decimal("12.50"))
    ModuleFactory(action_company=action_company, kind=ModuleKind.PRODUCT, product=product)
    lead = LeadFactory(company=company, first_name="Grace")
    shared = action_company_share(action_company=action_company, lead=lead)

    page = phone_page
    page.goto(link_on_live_server(shared.url, live_server))
    page.wait_for_selector("#buy", timeout=10_000)
    page.select_option("#variant-0", str(large.uuid))
    page.fill("#quantity-0", "3")
    assert "37.50" in page.inner_text("#cart-total")
    page.screenshot(path=str(SCREENSHOT_DIR / "commerce-phone.png"), full_page=True)
    page.click("#buy")
    # A review comes first: the cart's lines and total, then confirm or go back; nothing is bought yet.
    page.wait_for_selector("#review:not([hidden])", timeout=10_000)
    lines = page.inner_text("#review-lines")
    assert "3 × Widget (Large)" in lines and "37.50" in lines
    assert "37.50" in page.inner_text("#review-total")
    assert page.locator("#buy").is_hidden()
    page.screenshot(path=str(SCREENSHOT_DIR / "commerce-phone-review.png"), full_page=True)
    page.click("#back-to-cart")
    page.fill("#quantity-0", "2")
    page.click("#buy")
    assert "25.00" in page.inner_text("#review-total")
    assert not Engagement.objects.filter(lead=lead, stage=Stage.PURCHASED).exists()
    page.click("#confirm-order")
    page.wait_for_selector("#confirmation:not([hidden])", timeout=10_000)

    purchased = Engagement.objects.get(lead=lead, stage=Stage.PURCHASED)
    assert purchased.idempotency_key.startswith("public:buy-")
    assert purchased.message.body["total"] == "25.00"
    assert purchased.message.body["items"][0]["variant"] == str(large.uuid)
    assert not page.csp_violations


@pytest.mark.django_db(transaction=True)
def test_a_lead_downloads_content_on_a_phone(live_server, phone_page):
    company = CompanyFactory()
    action_company = _action(company, SystemSlug.CONTENT, "document", "Our brochure")
    # A file the live server itself serves, so the download works without the internet.
    content = ContentFactory(company=company, title="Brochure", url=f"{live_server.url}/static/action_page/page.css")
    ModuleFactory(action_company=action_company, kind=ModuleKind.CONTENT, content=content)
    # An article has no URL: the default host serves it, to read and to download.
    article = ContentFactory(company=company, title="Customer story", url="", body="How Acme saved an hour a day.")
    ModuleFactory(action_company=action_company, kind=ModuleKind.CONTENT, content=article, position=1)
    lead = LeadFactory(company=company)
    shared = action_company_share(action_company=action_company, lead=lead)

    page = phone_page
    page.goto(link_on_live_server(shared.url, live_server))
    page.wait_for_selector("text=Download", timeout=10_000)
    brochure, story = page.locator("article.card").all()
    assert brochure.locator("text=Open").get_attribute("href") == content.url
    page.screenshot(path=str(SCREENSHOT_DIR / "content-phone.png"), full_page=True)
    with page.expect_download():
        brochure.locator("text=Download").click()
    downloaded = Engagement.objects.filter(lead=lead, stage=Stage.DOWNLOADED, message__body__content=str(content.uuid))
    assert wait_for(downloaded.exists)

    with page.expect_download() as story_download:
        story.locator("text=Download").click()
    assert story_download.value.suggested_filename == "customer-story.txt"
    assert Path(story_download.value.path()).read_text() == "Customer story\n\nHow Acme saved an hour a day.\n"
    with page.context.expect_page() as opened:
        story.locator("text=Open").click()
    opened.value.wait_for_selector("#article-body")
    assert opened.value.inner_text("#article-body") == "How Acme saved an hour a day."
    stories = Engagement.objects.filter(lead=lead, stage=Stage.DOWNLOADED, message__body__content=str(article.uuid))
    assert wait_for(stories.exists)
    assert not page.csp_violations


@pytest.mark.django_db(transaction=True)
def test_an_expired_or_forged_link_shows_a_message(live_server, phone_page):
    company = CompanyFactory(settings={"require_link_token": True})
    action_company = _action(company, SystemSlug.FORMS, "form", "Private")
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM)
    lead = LeadFactory(company=company)
    shared = action_company_share(action_company=action_company, lead=lead)
    forged = link_on_live_server(shared.url, live_server).replace("token=", "token=x")
    phone_page.goto(forged)
    phone_page.wait_for_selector("#notice.notice--error:not([hidden])", timeout=10_000)
    assert phone_page.inner_text("#title") == "This link has expired"
    assert not Engagement.objects.filter(lead=lead, stage=Stage.OPENED).exists()
    assert not phone_page.csp_violations
