"""The crm host's leads show their stage on each company action, and filter by it (`?action=&stage=`)."""
import pytest

from tests.action_engine.factories import ActionCompanyFactory, LeadActionStateFactory
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def states(company):
    first = ActionCompanyFactory(company=company, name="A newsletter form")
    second = ActionCompanyFactory(company=company, name="B brochure")
    ada, bob, cyd = (LeadFactory(company=company, first_name=name) for name in ("Ada", "Bob", "Cyd"))
    return {
        "first": first,
        "second": second,
        "ada": ada,
        "bob": bob,
        "cyd": cyd,
        "ada_first": LeadActionStateFactory(action_company=first, lead=ada, stage="submitted"),
        "ada_second": LeadActionStateFactory(action_company=second, lead=ada, stage="sent"),
        "bob_first": LeadActionStateFactory(action_company=first, lead=bob, stage="opened"),
    }


def uuids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["uuid"] for row in response.json()["results"]}


def test_the_detail_shows_the_stage_on_each_action(crm_api, states):
    body = crm_api.get(f"/v1/leads/{states['ada'].uuid}/").json()
    assert [(row["action"], row["action_name"], row["stage"]) for row in body["action_stages"]] == [
        (str(states["first"].uuid), "A newsletter form", "submitted"),
        (str(states["second"].uuid), "B brochure", "sent"),
    ]
    assert crm_api.get(f"/v1/leads/{states['cyd'].uuid}/").json()["action_stages"] == []


def test_the_list_filters_by_the_stage_on_an_action(crm_api, states):
    first = str(states["first"].uuid)
    assert uuids(crm_api.get("/v1/leads/", {"action": first})) == {str(states["ada"].uuid), str(states["bob"].uuid)}
    assert uuids(crm_api.get("/v1/leads/", {"action": first, "stage": "opened"})) == {str(states["bob"].uuid)}
    # The same row must match both: Ada is "sent" on the second action, not on the first.
    assert uuids(crm_api.get("/v1/leads/", {"action": first, "stage": "sent"})) == set()
    assert uuids(crm_api.get("/v1/leads/", {"stage": "sent"})) == {str(states["ada"].uuid)}


def test_a_bad_stage_filter_is_a_400(crm_api, states):
    assert crm_api.get("/v1/leads/", {"stage": "clicked"}).status_code == 400
    assert crm_api.get("/v1/leads/", {"action": "not-a-uuid"}).status_code == 400


def test_the_list_reads_every_stage_in_one_query_more(crm_api, company, states, django_assert_num_queries):
    for _ in range(5):
        LeadActionStateFactory(action_company=states["second"], lead=LeadFactory(company=company))
    crm_api.get("/v1/leads/")  # the key's first use of the minute also stores its last_used_at
    # The API key with its company, the count, the page, the states of the page's leads.
    with django_assert_num_queries(4):
        body = crm_api.get("/v1/leads/").json()
    assert sum(len(row["action_stages"]) for row in body["results"]) == 8


def test_a_lead_written_through_the_api_answers_with_its_stages(crm_api, states):
    response = crm_api.patch(f"/v1/leads/{states['bob'].uuid}/", {"last_name": "Jones"}, format="json")
    assert response.status_code == 200
    assert [row["stage"] for row in response.json()["action_stages"]] == ["opened"]
    created = crm_api.post("/v1/leads/", {"first_name": "Dee"}, format="json")
    assert created.status_code == 201 and created.json()["action_stages"] == []
