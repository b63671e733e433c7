"""What the page data and the default host give a page beyond the action itself: the lead's prefill values (only
those the company allows), the content the engine serves (articles and uploaded files), and the page SDK's script."""

import hashlib
import json
import uuid

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from action_engine.choices import ModuleKind
from action_engine.pages import SDK_FILE
from action_engine.services import action_company_update
from salesassist.core.exceptions import InvalidInput
from tests.action_engine.factories import ModuleFactory
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    content_action,
    forms_action,
    lead,
    page_query,
    public_api,
)
from tests.products.factories import ContentFactory

pytestmark = pytest.mark.django_db

LEAD_VALUES = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+442071234567"}


@pytest.fixture
def known_lead(lead):
    for name, value in LEAD_VALUES.items():
        setattr(lead, name, value)
    lead.custom_fields = {"salary": "secret-salary"}
    lead.save()
    return lead


def page_data(public_api, action_company, lead) -> dict:
    response = public_api.get(f"/v1/public/actions/{action_company.uuid}", page_query(action_company, lead))
    assert response.status_code == 200, response.content
    return response.json()


def test_nothing_is_prefilled_by_default_and_no_lead_value_but_the_first_name_is_in_the_page(
    public_api, forms_action, known_lead
):
    data = page_data(public_api, forms_action, known_lead)
    assert data["lead"]["prefill"] == {}
    text = json.dumps(data)
    for name in ("last_name", "email", "phone"):
        assert LEAD_VALUES[name] not in text
    assert "secret-salary" not in text


def test_only_the_fields_the_company_lists_are_prefilled(public_api, forms_action, known_lead):
    action_company_update(action_company=forms_action, config={"prefill": ["email", "name"]})
    data = page_data(public_api, forms_action, known_lead)
    assert data["lead"]["prefill"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    text = json.dumps(data)
    assert LEAD_VALUES["phone"] not in text and "secret-salary" not in text


def test_a_config_saved_before_the_check_never_reaches_beyond_the_allowed_fields(public_api, forms_action, known_lead):
    forms_action.config = {"prefill": ["phone", "custom_fields", "owner", "__class__"]}
    forms_action.save()  # as a row written before configs were checked
    data = page_data(public_api, forms_action, known_lead)
    assert data["lead"]["prefill"] == {"phone": LEAD_VALUES["phone"]}
    assert "secret-salary" not in json.dumps(data)


@pytest.mark.parametrize(
    "config", [{"prefill": ["custom_fields"]}, {"prefill": "email"}, {"prefill": [1]}, {"prefill": ["email", "owner"]}]
)
def test_a_company_action_cannot_list_other_fields(action_engine_api, forms_action, config):
    with pytest.raises(InvalidInput):
        action_company_update(action_company=forms_action, config=config)
    response = action_engine_api.patch(f"/v1/company-actions/{forms_action.uuid}", {"config": config}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["config.prefill"]


def test_an_article_is_served_by_the_default_host(public_api, company, content_action, lead):
    article = ContentFactory(company=company, title="How we work", url="", body="First part.\n\nSecond part.")
    ModuleFactory(action_company=content_action, kind=ModuleKind.CONTENT, content=article, position=5)
    # On the default host as the page's caller reaches the API: the same scheme and port.
    response = public_api.get(
        f"/v1/public/actions/{content_action.uuid}",
        page_query(content_action, lead),
        HTTP_HOST="api.action-engine.localhost:8123",
    )
    (shown,) = [module for module in response.json()["modules"] if module["uuid"] == str(article.uuid)]
    path = f"/a/{content_action.uuid}/content/{article.uuid}/"
    url = f"http://localhost:8123{path}"
    assert (shown["url"], shown["download_url"]) == (url, f"{url}?download")
    (document,) = [module for module in response.json()["modules"] if module["uuid"] != str(article.uuid)]
    assert document["url"] == document["download_url"] and document["url"].startswith("https://example.com/")

    client = Client(HTTP_HOST="localhost:8123")
    page = client.get(path)
    assert page.status_code == 200
    assert "<p>First part.</p>" in page.content.decode() and "How we work" in page.content.decode()
    download = client.get(path, {"download": ""})
    assert download["Content-Disposition"] == 'attachment; filename="how-we-work.txt"'
    assert download.content.decode() == "How we work\n\nFirst part.\n\nSecond part.\n"


def test_only_a_shown_published_article_is_served(company, content_action, forms_action):
    client = Client(HTTP_HOST="localhost:8000")
    hidden = ContentFactory(company=company, url="", body="Not yet.", is_published=False)
    ModuleFactory(action_company=content_action, kind=ModuleKind.CONTENT, content=hidden)
    linked = ContentFactory(company=company, url="https://example.com/doc.pdf", body="A summary.")
    ModuleFactory(action_company=content_action, kind=ModuleKind.CONTENT, content=linked)
    not_shown = ContentFactory(company=company, url="", body="Elsewhere.")
    for action_uuid, content in [
        (content_action.uuid, hidden),
        (content_action.uuid, linked),  # it has its own URL: the engine does not serve it
        (content_action.uuid, not_shown),
        (forms_action.uuid, not_shown),
        (uuid.uuid4(), hidden),
    ]:
        assert client.get(f"/a/{action_uuid}/content/{content.uuid}/").status_code == 404


def _uploaded(company, content_action, name: str, data: bytes, **fields):
    content = ContentFactory(company=company, url="", body="", **fields)
    content.file.save(name, ContentFile(data), save=True)
    ModuleFactory(action_company=content_action, kind=ModuleKind.CONTENT, content=content)
    return content, f"/a/{content_action.uuid}/content/{content.uuid}/"


def test_an_uploaded_file_is_served_through_the_action_that_shows_it(public_api, company, content_action, lead):
    pdf = b"%PDF-1.4\n% a brochure\n"
    content, path = _uploaded(company, content_action, "brochure.pdf", pdf, title="Brochure")
    data = page_data(public_api, content_action, lead)
    (shown,) = [module for module in data["modules"] if module["uuid"] == str(content.uuid)]
    assert (shown["url"], shown["download_url"]) == (f"http://localhost{path}", f"http://localhost{path}?download")

    client = Client(HTTP_HOST="localhost:8000")
    opened = client.get(path)
    assert opened.status_code == 200 and opened["Content-Type"] == "application/pdf"
    assert opened["Content-Disposition"].startswith("inline") and b"".join(opened.streaming_content) == pdf
    downloaded = client.get(path, {"download": ""})
    disposition = downloaded["Content-Disposition"]
    assert disposition.startswith("attachment") and "brochure" in disposition

    hidden, hidden_path = _uploaded(company, content_action, "draft.pdf", pdf, is_published=False)
    assert client.get(hidden_path).status_code == 404


@pytest.mark.parametrize("name", ["page.html", "logo.svg", "notes.unknownext"])
def test_an_upload_that_a_browser_could_run_is_only_ever_an_attachment(company, content_action, name):
    _, path = _uploaded(company, content_action, name, b"<script>alert(document.cookie)</script>")
    for query in ({}, {"download": ""}):
        response = Client(HTTP_HOST="localhost:8000").get(path, query)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")


def test_content_whose_file_is_gone_is_a_404(company, content_action):
    content, path = _uploaded(company, content_action, "tour.webm", b"\x1aE\xdf\xa3", kind="video")
    content.file.storage.delete(content.file.name)
    assert Client(HTTP_HOST="localhost:8000").get(path).status_code == 404


def test_the_sdk_is_served_cacheable_to_any_origin(db):
    client = Client(HTTP_HOST="localhost:8000")
    response = client.get("/sdk/salesassist.js", HTTP_ORIGIN="http://shop.example.com")
    assert response.status_code == 200
    assert response.content == SDK_FILE.read_bytes()
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["ETag"] == f'"{hashlib.sha256(SDK_FILE.read_bytes()).hexdigest()[:32]}"'
    again = client.get("/sdk/salesassist.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and not again.content
    assert client.post("/sdk/salesassist.js").status_code == 405
