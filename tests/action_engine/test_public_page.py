"""The reference action page's shell on the default host (the browser test in tests/e2e drives its script)."""

import pytest
from django.test import Client

from tests.action_engine.public_fixtures import forms_action, lead  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_page_carries_the_link_and_the_api_of_the_same_port(forms_action, lead):
    client = Client(HTTP_HOST="localhost:8123")
    response = client.get(f"/a/{forms_action.uuid}/", {"lead": str(lead.uuid), "visitor": "v", "token": "t&<x>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-api="http://api.action-engine.localhost:8123/v1"' in html
    assert f'data-action="{forms_action.uuid}"' in html and f'data-lead="{lead.uuid}"' in html
    assert 'data-token="t&amp;&lt;x&gt;"' in html
    assert "/static/action_page/page.js" in html and 'name="viewport"' in html
    # The page SDK first: the page's script records through it.
    assert html.index("/static/sdk/salesassist.js") < html.index("/static/action_page/page.js")
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_link_without_a_lead_is_404(forms_action):
    assert Client(HTTP_HOST="localhost:8000").get(f"/a/{forms_action.uuid}/").status_code == 404


def test_the_page_assets_are_served(forms_action):
    client = Client(HTTP_HOST="localhost:8000")
    from django.contrib.staticfiles import finders

    assert finders.find("action_page/page.js") and finders.find("action_page/page.css")
    assert client.get(f"/a/{forms_action.uuid}/", {"lead": "x"}).status_code == 200
