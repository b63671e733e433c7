"""No oracle: nothing a public call answers tells whether another company knows a visitor uuid, and a
uuid is accepted in one spelling only."""

import uuid

import pytest

from action_engine.models import Engagement
from crm.models import Visitor
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    page_query,
    public_api,
)
from tests.crm.factories import LeadFactory, VisitorFactory
from tests.workflows.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def answer(response):
    """What a caller sees of an answer, but for values that depend on the row it made (uuids, times)."""
    headers = {name: value for name, value in response.items() if name != "Content-Length"}
    return response.status_code, sorted(response.json()), headers


def visitor_state(visitor: Visitor):
    visitor.refresh_from_db()
    return visitor.company_id, visitor.lead_id, visitor.first_seen_at, visitor.last_seen_at, visitor.updated_at


def foreign_visitor(other_company) -> Visitor:
    return VisitorFactory(company=other_company, lead=LeadFactory(company=other_company), user_agent="theirs")


def test_another_companys_visitor_uuid_is_answered_like_an_unknown_one(
    public_api, company, other_company, forms_action, lead
):
    # Tokens off: the page's own visitor uuid is all that names the browser (with a token it is signed).
    company.settings = {"require_link_token": False}
    company.save()
    theirs = foreign_visitor(other_company)
    before = visitor_state(theirs)
    unknown = uuid.uuid4()
    second_lead = LeadFactory(company=company)

    def post(lead, visitor_uuid):
        body = engagement_body(forms_action, lead, visitor_uuid, "opened", token="")
        return public_api.post(ENGAGEMENTS_URL, body, format="json")

    first_unknown, first_theirs = post(lead, unknown), post(lead, theirs.uuid)
    assert answer(first_theirs) == answer(first_unknown)
    assert first_unknown.status_code == 201
    assert (first_unknown.json()["visitor"], first_theirs.json()["visitor"]) == (str(unknown), str(theirs.uuid))
    # Later calls too: both uuids are now this company's visitors of `lead`, so another lead is refused alike.
    again_unknown, again_theirs = post(second_lead, unknown), post(second_lead, theirs.uuid)
    assert answer(again_theirs) == answer(again_unknown)
    assert again_theirs.json() == again_unknown.json() and again_theirs.status_code == 409
    # Their visitor was never linked, touched or named: ours is a new visitor of this company.
    assert visitor_state(theirs) == before
    ours = Engagement.objects.get(uuid=first_theirs.json()["uuid"]).visitor
    assert (ours.pk != theirs.pk, ours.company_id, ours.lead_id) == (True, company.pk, lead.pk)


def test_a_receiver_call_with_another_companys_visitor_uuid_is_answered_like_an_unknown_one(
    public_api, company, other_company, forms_action, lead
):
    receiver = forms_action.receivers.get(is_active=True)
    receiver.mapping = {"lead": "lead", "visitor": "browser", "stage": "event"}
    receiver.save()
    theirs = foreign_visitor(other_company)
    before = visitor_state(theirs)

    def call(visitor_uuid):
        body = {"event": "opened", "lead": str(lead.uuid), "browser": str(visitor_uuid)}
        return public_api.post(f"/v1/receivers/{receiver.uuid}", body, format="json")

    unknown, foreign = call(uuid.uuid4()), call(theirs.uuid)
    assert answer(foreign) == answer(unknown)
    assert unknown.status_code == 201 and foreign.json()["visitor"] == str(theirs.uuid)
    assert visitor_state(theirs) == before


SPELLINGS = {
    "integer": lambda value: value.int % 1000 or 1,
    "braces": lambda value: "{%s}" % value,
    "urn": lambda value: f"urn:uuid:{value}",
    "no hyphens": lambda value: value.hex,
    "padded": lambda value: f" {value} ",
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_uuid_not_in_canonical_form_is_a_400_everywhere(
    public_api, action_engine_api, crm_api, company, forms_action, lead, spelling
):
    spell = SPELLINGS[spelling]
    visitor = uuid.uuid4()
    workflow = WorkflowFactory(company=company)
    receiver = forms_action.receivers.get(is_active=True)
    receiver.mapping = {"lead": "lead", "visitor": "visitor", "stage": "event"}
    receiver.save()
    page = f"/v1/public/actions/{forms_action.uuid}"
    def engagement(**spelled):
        body = engagement_body(forms_action, lead, visitor, "opened") | spelled
        return public_api.post(ENGAGEMENTS_URL, body, format="json")

    def page_data(**spelled):
        return public_api.get(page, page_query(forms_action, lead, visitor) | spelled)

    calls = [
        # (what, the field named in the problem's errors, the request naming it in `spelling`)
        ("engagement", "lead", lambda: engagement(lead=spell(lead.uuid))),
        ("engagement", "visitor", lambda: engagement(visitor=spell(visitor))),
        ("engagement", "action", lambda: engagement(action=spell(forms_action.uuid))),
        ("page data", "lead", lambda: page_data(lead=spell(lead.uuid))),
        ("page data", "visitor", lambda: page_data(visitor=spell(visitor))),
        ("share", "lead", lambda: action_engine_api.post(
            f"/v1/company-actions/{forms_action.uuid}/share", {"lead": spell(lead.uuid)}, format="json"
        )),
        ("engagement filter", "lead", lambda: action_engine_api.get("/v1/engagements", {"lead": spell(lead.uuid)})),
        ("visitor list filter", "lead", lambda: crm_api.get("/v1/visitors", {"lead": spell(lead.uuid)})),
        ("related uuid field", "workflow", lambda: action_engine_api.post(
            f"/v1/company-actions/{forms_action.uuid}/workflows", {"workflow": spell(workflow.uuid)}, format="json"
        )),
        ("receiver call", "lead", lambda: public_api.post(
            f"/v1/receivers/{receiver.uuid}",
            {"event": "opened", "lead": spell(lead.uuid), "visitor": str(visitor)},
            format="json",
        )),
    ]
    for what, field, request in calls:
        response = request()
        assert response.status_code == 400, (what, field, response.content)
        assert response["Content-Type"] == "application/problem+json", (what, field)
        assert field in response.json()["errors"], (what, field, response.json())
    assert not Engagement.objects.exclude(stage="sent").exists()
    assert not Visitor.objects.filter(uuid=visitor).exists()
