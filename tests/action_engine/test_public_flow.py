"""The whole public flow for each action system: share → page data → opened → result → the lead's feed."""

from urllib.parse import parse_qs, urlsplit

import pytest

from action_engine.choices import Stage
from action_engine.models import Engagement
from crm.models import Visitor
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    commerce_action,
    content_action,
    engagement_body,
    forms_action,
    lead,
    public_api,
)

pytestmark = pytest.mark.django_db


def share(action_engine_api, action_company, lead):
    response = action_engine_api.post(
        f"/v1/company-actions/{action_company.uuid}/share", {"lead": str(lead.uuid)}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    query = parse_qs(urlsplit(body["url"]).query)
    assert query["lead"] == [str(lead.uuid)]
    assert query["visitor"] == [body["visitor"]]
    return body, query


def result_message(action_company, page):
    """What a page would post as its result, built from the page data like the reference page does."""
    module = page["modules"][0]
    system = page["action"]["system"]
    if system == "forms":
        return {"data": {"name": "Ada", "email": "ada@example.com"}}
    if system == "commerce":
        variant = module["variants"][0]
        # The browser's price is a lie on purpose: the server must recompute it.
        return {"items": [{"product": module["uuid"], "variant": variant["uuid"], "quantity": 2, "unit_price": "0.01"}]}
    return {"content": module["uuid"]}


@pytest.mark.parametrize(
    ("fixture", "result_stage"),
    [("forms_action", Stage.SUBMITTED), ("commerce_action", Stage.PURCHASED), ("content_action", Stage.DOWNLOADED)],
)
def test_whole_flow_for_each_system(request, action_engine_api, crm_api, public_api, lead, fixture, result_stage):
    action_company = request.getfixturevalue(fixture)
    shared, query = share(action_engine_api, action_company, lead)
    assert urlsplit(shared["url"]).path == f"/a/{action_company.uuid}/"
    visitor = Visitor.objects.get(uuid=shared["visitor"])
    assert visitor.lead == lead

    page = public_api.get(
        f"/v1/public/actions/{action_company.uuid}",
        {"lead": str(lead.uuid), "visitor": shared["visitor"], "token": query["token"][0]},
    )
    assert page.status_code == 200, page.content
    page = page.json()
    assert page["lead"] == {"first_name": "Ada", "stage": "sent", "prefill": {}}
    assert page["action"]["result_stage"] == result_stage
    assert "email" not in str(page["lead"]) and "Lovelace" not in str(page)

    token = query["token"][0]
    opened = public_api.post(
        ENGAGEMENTS_URL, engagement_body(action_company, lead, shared["visitor"], "opened", token=token), format="json"
    )
    assert opened.status_code == 201, opened.content
    assert opened.json()["previous_stage"] == "sent"
    assert opened.json()["current_stage"] == "opened"

    result = public_api.post(
        ENGAGEMENTS_URL,
        engagement_body(
            action_company, lead, shared["visitor"], result_stage, result_message(action_company, page), token=token
        ),
        format="json",
    )
    assert result.status_code == 201, result.content
    body = result.json()
    assert body["stage"] == result_stage
    assert body["previous_stage"] == "opened"
    assert body["current_stage"] == result_stage
    assert body["visitor"] == shared["visitor"]

    history = list(Engagement.objects.filter(lead=lead).order_by("created_at", "id").values_list("stage", flat=True))
    assert history == ["sent", "opened", result_stage]
    recorded = Engagement.objects.get(uuid=body["uuid"])
    assert str(recorded.message.uuid) == body["message"]
    if result_stage == Stage.PURCHASED:
        cart = recorded.message.body
        assert cart["items"][0]["unit_price"] == "12.50"
        assert cart["items"][0]["line_total"] == "25.00"
        assert cart["total"] == "25.00" and cart["currency"] == "EUR"

    feed = crm_api.get(f"/v1/leads/{lead.uuid}/feed")
    assert feed.status_code == 200, feed.content
    entries = feed.json()["results"]
    assert [entry["stage"] for entry in entries] == [result_stage, "opened", "sent"]
    assert entries[0]["uuid"] == body["uuid"] and entries[0]["message"] == recorded.message.body
    assert {entry["action"]["uuid"] for entry in entries} == {str(action_company.uuid)}

    page_after = public_api.get(
        f"/v1/public/actions/{action_company.uuid}",
        {"lead": str(lead.uuid), "visitor": shared["visitor"], "token": token},
    )
    assert page_after.json()["lead"]["stage"] == result_stage
