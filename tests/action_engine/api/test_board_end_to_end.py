"""From recorded engagements to the board and the funnel: shared through the API, opened and submitted through
the public endpoint (engagement_record writes the pipeline state), read back on both hosts."""
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.action_engine.public_fixtures import ENGAGEMENTS_URL, engagement_body, forms_action, public_api  # noqa: F401
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_recorded_engagements_reach_the_board_the_funnel_and_the_lead_list(
    action_engine_api, crm_api, public_api, company, forms_action
):
    ada, bob, cyd = (LeadFactory(company=company, first_name=name) for name in ("Ada", "Bob", "Cyd"))
    visitors = {}
    for lead in (ada, bob, cyd):
        shared = action_engine_api.post(
            f"/v1/company-actions/{forms_action.uuid}/share", {"lead": str(lead.uuid)}, format="json"
        )
        assert shared.status_code == 201
        visitors[lead] = (shared.json()["visitor"], parse_qs(urlsplit(shared.json()["url"]).query)["token"][0])

    def record(lead, stage, message=None):
        visitor, token = visitors[lead]
        body = engagement_body(forms_action, lead, visitor, stage, message, token=token)
        assert public_api.post(ENGAGEMENTS_URL, body, format="json").status_code == 201

    record(ada, "opened")
    record(bob, "opened")
    record(bob, "submitted", {"data": {"email": "bob@example.com"}})

    board = action_engine_api.get(
        f"/v1/company-actions/{forms_action.uuid}/leads", {"reached": "opened", "not_reached": "submitted"}
    ).json()["results"]
    assert [(row["lead"], row["stage"], row["engagement_count"]) for row in board] == [(str(ada.uuid), "opened", 2)]
    assert board[0]["sent_at"] and board[0]["opened_at"] and board[0]["submitted_at"] is None

    funnel = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", {"bucket": "day"}).json()
    assert [stage["leads"] for stage in funnel["stages"]] == [3, 2, 1]
    assert [stage["leads"] for stage in funnel["buckets"][0]["stages"]] == [3, 2, 1]
    assert funnel["stages"][1]["median_seconds_from_previous"] >= 0

    leads = crm_api.get("/v1/leads/", {"action": str(forms_action.uuid), "stage": "sent"}).json()["results"]
    assert [row["uuid"] for row in leads] == [str(cyd.uuid)]
    assert leads[0]["action_stages"][0]["stage"] == "sent"
