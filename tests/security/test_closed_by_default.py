"""Closed by default: the link's token is required unless a company turns it off, and every public call
names its visitor (page data, engagements, receiver calls)."""

import json
import uuid

import pytest
from django.urls import reverse

from action_engine.models import Engagement, ReceiverCall
from action_engine.services import action_company_receiver_update, receiver_call_is_replayable
from salesassist.core.exceptions import InvalidInput
from salesassist.core.inbound.models import InboundOutcome
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    page_query,
    public_api,
)

pytestmark = pytest.mark.django_db


def page_url(action_company) -> str:
    return f"/v1/public/actions/{action_company.uuid}"


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].removeprefix("urn:salesassist:problem:")


def test_without_a_token_page_data_and_engagements_are_refused_by_default(public_api, company, forms_action, lead):
    assert company.settings.get("require_link_token") is None  # a company that never chose
    page = public_api.get(page_url(forms_action), page_query(forms_action, lead, token=""))
    posted = public_api.post(
        ENGAGEMENTS_URL, engagement_body(forms_action, lead, uuid.uuid4(), "opened", token=""), format="json"
    )
    assert (page.status_code, problem_type(page)) == (403, "token_required")
    assert (posted.status_code, problem_type(posted)) == (403, "token_required")
    assert not Engagement.objects.filter(stage="opened").exists()


@pytest.mark.parametrize("setting", [None, 0, "", "false", "no", [], {}])
def test_the_token_is_optional_only_when_turned_off_with_false(public_api, company, forms_action, lead, setting):
    company.settings = {"require_link_token": setting}
    company.save()
    query = page_query(forms_action, lead, token="")
    assert public_api.get(page_url(forms_action), query).status_code == 403
    company.settings = {"require_link_token": False}
    company.save()
    assert public_api.get(page_url(forms_action), query).status_code == 200


@pytest.mark.parametrize("require_link_token", [True, False])
def test_page_data_without_a_visitor_is_a_400(public_api, company, forms_action, lead, require_link_token):
    company.settings = {"require_link_token": require_link_token}
    company.save()
    query = page_query(forms_action, lead)
    del query["visitor"]
    if not require_link_token:
        del query["token"]
    response = public_api.get(page_url(forms_action), query)
    assert response.status_code == 400, response.content
    assert "visitor" in response.json()["errors"]


def test_a_receiver_mapping_without_a_visitor_path_is_refused_at_save(action_engine_api, admin_client, forms_action):
    receiver = forms_action.receivers.get(is_active=True)
    assert receiver.mapping.get("visitor")  # a new company action's receiver names one
    without = {"lead": "contact.id", "stage": "event"}
    # API
    rotated = action_engine_api.post(
        f"/v1/company-actions/{forms_action.uuid}/receivers", {"mapping": without}, format="json"
    )
    assert rotated.status_code == 400 and "mapping" in rotated.json()["errors"]
    # admin
    changed = admin_client.post(
        reverse("admin:action_engine_actioncompanyreceiver_change", args=[receiver.pk]),
        {"mapping": json.dumps(without), "default_stage": "", "calls-TOTAL_FORMS": 0, "calls-INITIAL_FORMS": 0},
    )
    assert changed.status_code == 200 and "mapping" in changed.context["adminform"].form.errors
    # the service itself, for anything else that saves one
    with pytest.raises(InvalidInput) as refused:
        action_company_receiver_update(receiver=receiver, mapping={**without, "visitor": "  "})
    assert "mapping" in refused.value.errors
    receiver.refresh_from_db()
    assert receiver.mapping.get("visitor") and forms_action.receivers.count() == 1


def test_a_receiver_call_without_its_visitor_is_a_stored_replayable_400(public_api, forms_action, lead):
    receiver = forms_action.receivers.get(is_active=True)
    receiver.mapping = {"lead": "contact.id", "visitor": "contact.browser", "stage": "event"}
    receiver.save()
    body = {"event": "opened", "contact": {"id": str(lead.uuid)}}
    response = public_api.post(f"/v1/receivers/{receiver.uuid}", body, format="json")
    assert response.status_code == 400, response.content
    assert problem_type(response) == "mapping_failed" and "visitor" in response.json()["errors"]
    call = ReceiverCall.objects.get()
    assert call.outcome == InboundOutcome.FAILED and "visitor" in call.error["errors"]
    assert receiver_call_is_replayable(receiver_call=call)
    assert not Engagement.objects.filter(receiver=receiver).exists()
