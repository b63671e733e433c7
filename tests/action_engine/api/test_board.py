"""A company action's board (`GET company-actions/{uuid}/leads`): its leads by the stage they reached."""
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import host_client
from salesassist.hosts import ACTION_ENGINE_API
from tests.action_engine.factories import LeadActionStateFactory
from tests.action_engine.public_fixtures import forms_action  # noqa: F401
from tests.crm.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def board(client, action_company, **query):
    return client.get(f"/v1/company-actions/{action_company.uuid}/leads", query)


def leads_of(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["lead"] for row in response.json()["results"]]


@pytest.fixture
def pipeline(company, forms_action):
    """One lead at each point of a forms pipeline; the sent one went out four days ago, the others today."""
    now = timezone.now()
    lead = {name: LeadFactory(company=company, first_name=name.title(), last_name="") for name in ("sent", "opened", "submitted")}
    return {
        "sent": LeadActionStateFactory(
            action_company=forms_action, lead=lead["sent"], stage="sent", at=now - timedelta(days=4)
        ),
        "opened": LeadActionStateFactory(action_company=forms_action, lead=lead["opened"], stage="opened", at=now),
        "submitted": LeadActionStateFactory(
            action_company=forms_action, lead=lead["submitted"], stage="submitted", at=now - timedelta(hours=1)
        ),
    }


def test_opened_but_not_submitted(action_engine_api, forms_action, pipeline):
    response = board(action_engine_api, forms_action, reached="opened", not_reached="submitted")
    assert leads_of(response) == [str(pipeline["opened"].lead.uuid)]


def test_the_board_is_most_recently_engaged_first_with_each_stage_time(action_engine_api, forms_action, pipeline):
    owner = UserFactory(username="grace")
    state = pipeline["submitted"]
    state.lead.owner = owner
    state.lead.save()
    state.utm_source = "newsletter"
    state.save()
    response = board(action_engine_api, forms_action)
    assert leads_of(response) == [str(pipeline[name].lead.uuid) for name in ("opened", "submitted", "sent")]
    row = response.json()["results"][1]
    assert row == {
        "lead": str(state.lead.uuid),
        "name": "Submitted",
        "owner": "grace",
        "stage": "submitted",
        "sent_at": state.sent_at.isoformat().replace("+00:00", "Z"),
        "opened_at": state.opened_at.isoformat().replace("+00:00", "Z"),
        "submitted_at": state.submitted_at.isoformat().replace("+00:00", "Z"),
        "downloaded_at": None,
        "purchased_at": None,
        "first_engaged_at": state.first_engaged_at.isoformat().replace("+00:00", "Z"),
        "last_engaged_at": state.last_engaged_at.isoformat().replace("+00:00", "Z"),
        "engagement_count": 3,
        "utm_source": "newsletter",
    }
    assert response.json()["results"][0]["utm_source"] is None


def test_reached_counts_a_later_stage(action_engine_api, forms_action, pipeline):
    response = board(action_engine_api, forms_action, reached="opened")
    assert set(leads_of(response)) == {str(pipeline[name].lead.uuid) for name in ("opened", "submitted")}


def test_stage_is_the_current_stage(action_engine_api, forms_action, pipeline):
    assert leads_of(board(action_engine_api, forms_action, stage="opened")) == [str(pipeline["opened"].lead.uuid)]


@pytest.mark.parametrize("stalled_for", ["P3D", "PT72H", "259200", "P2DT24H", "PT4320M"])
def test_sent_three_days_ago_and_never_opened(action_engine_api, forms_action, pipeline, stalled_for):
    response = board(action_engine_api, forms_action, not_reached="opened", stalled_for=stalled_for)
    assert leads_of(response) == [str(pipeline["sent"].lead.uuid)]


def test_stalled_for_spares_recent_engagements(action_engine_api, forms_action, pipeline):
    response = board(action_engine_api, forms_action, stalled_for="PT30M")
    assert set(leads_of(response)) == {str(pipeline[name].lead.uuid) for name in ("sent", "submitted")}


@pytest.mark.parametrize("stalled_for", ["", "P", "PT", "3 days", "P1W", "P1M", "-5", "P3DT", "1.5", "P123456D"])
def test_a_malformed_stalled_for_is_a_400(action_engine_api, forms_action, stalled_for):
    response = board(action_engine_api, forms_action, stalled_for=stalled_for)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "stalled_for" in str(response.json())


@pytest.mark.parametrize("name", ["stage", "reached", "not_reached"])
def test_a_stage_outside_the_pipeline_is_a_400(action_engine_api, forms_action, name):
    response = board(action_engine_api, forms_action, **{name: "purchased"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "urn:salesassist:problem:stage_not_in_pipeline"
    assert name in str(problem)


def test_an_unknown_stage_is_a_400(action_engine_api, forms_action):
    assert board(action_engine_api, forms_action, reached="clicked").status_code == 400


def test_deleted_leads_and_other_actions_are_left_out(action_engine_api, company, forms_action, pipeline):
    pipeline["opened"].lead.delete()
    LeadActionStateFactory(lead=LeadFactory(company=company), action_company__company=company)
    response = board(action_engine_api, forms_action)
    assert set(leads_of(response)) == {str(pipeline[name].lead.uuid) for name in ("sent", "submitted")}


def test_another_companys_action_is_a_404(other_api_key, forms_action, pipeline):
    response = board(host_client(ACTION_ENGINE_API, other_api_key.token), forms_action)
    assert response.status_code == 404


def test_the_board_is_cursor_paged_at_one_query_per_page(
    action_engine_api, company, forms_action, django_assert_num_queries
):
    now = timezone.now()
    states = [
        LeadActionStateFactory(
            action_company=forms_action,
            lead=LeadFactory(company=company, owner=UserFactory()),
            at=now - timedelta(minutes=n),
        )
        for n in range(5)
    ]
    board(action_engine_api, forms_action)  # the key's first use of the minute also stores its last_used_at
    seen, url = [], f"/v1/company-actions/{forms_action.uuid}/leads?page_size=2"
    while url:
        # The API key with its company, the company action, then the page.
        with django_assert_num_queries(3):
            body = action_engine_api.get(url).json()
        seen += [row["lead"] for row in body["results"]]
        url = body["next"]
    assert seen == [str(state.lead.uuid) for state in states]
