"""Sharing an action with a lead (visitor, `sent`, signed expiring link) and the funnel of a company action."""

from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from action_engine.choices import Stage
from action_engine.models import Engagement
from action_engine.services import ACTION_LINK_SALT, action_link_check
from conftest import host_client
from crm.models import Visitor
from salesassist.core.exceptions import PermissionDenied
from salesassist.hosts import ACTION_ENGINE_API
from tests.action_engine.factories import LeadActionStateFactory
from tests.action_engine.public_fixtures import forms_action, lead, public_api  # noqa: F401
from tests.crm.factories import LeadFactory

pytestmark = pytest.mark.django_db


def share(client, action_company, lead):
    return client.post(f"/v1/company-actions/{action_company.uuid}/share", {"lead": str(lead.uuid)}, format="json")


def test_share_makes_a_visitor_a_sent_engagement_and_a_signed_link(action_engine_api, forms_action, lead):
    response = share(action_engine_api, forms_action, lead)
    assert response.status_code == 201
    body = response.json()
    url = urlsplit(body["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "localhost:8000", f"/a/{forms_action.uuid}/")
    query = parse_qs(url.query)
    assert query["lead"] == [str(lead.uuid)] and query["visitor"] == [body["visitor"]]
    payload = signing.loads(query["token"][0], salt=ACTION_LINK_SALT)
    assert (payload["a"], payload["l"], payload["v"]) == (str(forms_action.uuid), str(lead.uuid), body["visitor"])
    expires_at = parse_datetime(body["expires_at"])
    assert timedelta(days=29, hours=23) < expires_at - timezone.now() <= timedelta(days=30)
    engagement = Engagement.objects.get(uuid=body["engagement"])
    assert (engagement.stage, engagement.previous_stage, str(engagement.visitor.uuid)) == ("sent", "", body["visitor"])


def test_sharing_twice_gives_two_visitors(action_engine_api, forms_action, lead):
    first = share(action_engine_api, forms_action, lead).json()
    second = share(action_engine_api, forms_action, lead).json()
    assert first["visitor"] != second["visitor"]
    assert Visitor.objects.filter(lead=lead).count() == 2
    assert Engagement.objects.filter(lead=lead, stage=Stage.SENT).count() == 2


def test_the_companys_ttl_and_page_base_url(action_engine_api, company, forms_action, lead):
    company.settings = {"link_ttl_days": 2}
    company.save()
    forms_action.page_url = "https://go.acme.example/offer?utm=sa"
    forms_action.save()
    body = share(action_engine_api, forms_action, lead).json()
    assert parse_datetime(body["expires_at"]) - timezone.now() <= timedelta(days=2)
    url = urlsplit(body["url"])
    assert (url.netloc, url.path) == ("go.acme.example", "/offer")
    query = parse_qs(url.query)
    assert query["utm"] == ["sa"] and query["action"] == [str(forms_action.uuid)]


def test_share_refuses_unknown_keys(action_engine_api, forms_action, lead):
    response = action_engine_api.post(
        f"/v1/company-actions/{forms_action.uuid}/share", {"lead": str(lead.uuid), "leed": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "leed" in response.json()["errors"]
    assert not Engagement.objects.exists()


def test_a_huge_company_ttl_is_capped_at_ten_years(action_engine_api, company, forms_action, lead):
    company.settings = {"link_ttl_days": 3_000_000}
    company.save()
    response = share(action_engine_api, forms_action, lead)
    assert response.status_code == 201, response.content
    assert parse_datetime(response.json()["expires_at"]) - timezone.now() <= timedelta(days=3650)


def test_a_share_that_fails_to_build_its_link_leaves_nothing(action_engine_api, forms_action, lead):
    action_engine_api.raise_request_exception = False
    with mock.patch("action_engine.services.sharing.action_link_url", side_effect=RuntimeError("boom")):
        assert share(action_engine_api, forms_action, lead).status_code == 500
    assert not Visitor.objects.exists() and not Engagement.objects.exists()


def test_an_expired_link_is_refused(action_engine_api, public_api, company, forms_action, lead, settings):
    company.settings = {"link_ttl_days": 1}
    company.save()
    body = share(action_engine_api, forms_action, lead).json()
    query = parse_qs(urlsplit(body["url"]).query)
    params = {"lead": str(lead.uuid), "visitor": body["visitor"], "token": query["token"][0]}
    assert public_api.get(f"/v1/public/actions/{forms_action.uuid}", params).status_code == 200
    later = timezone.now() + timedelta(days=1, seconds=5)
    with pytest.raises(PermissionDenied) as error:
        with mock.patch("django.utils.timezone.now", return_value=later):
            action_link_check(
                action_company=forms_action, lead_uuid=lead.uuid, visitor_uuid=body["visitor"], token=params["token"]
            )
    assert error.value.code == "token_expired"


@pytest.mark.parametrize("problem", ["foreign_lead", "unknown_action", "read_only", "inactive"])
def test_share_rejections(action_engine_api, read_only_key, forms_action, lead, other_company, problem):
    client, target, who = action_engine_api, forms_action, lead
    expected = {"foreign_lead": 400, "unknown_action": 404, "read_only": 403, "inactive": 409}[problem]
    if problem == "foreign_lead":
        who = LeadFactory(company=other_company)
    elif problem == "unknown_action":
        target = type("Unknown", (), {"uuid": "00000000-0000-4000-8000-000000000000"})()
    elif problem == "read_only":
        client = host_client(ACTION_ENGINE_API, read_only_key.token)
    else:
        forms_action.is_active = False
        forms_action.save()
    before = (Visitor.objects.count(), Engagement.objects.count())
    response = share(client, target, who)
    assert response.status_code == expected
    assert response["Content-Type"] == "application/problem+json"
    assert (Visitor.objects.count(), Engagement.objects.count()) == before


def test_another_companys_key_cannot_share(other_api_key, forms_action, lead):
    response = share(host_client(ACTION_ENGINE_API, other_api_key.token), forms_action, lead)
    assert response.status_code == 404


# --- funnel ---------------------------------------------------------------------------------------


def _reach(action_company, lead, stage, **state):
    """The lead's pipeline state on the action, as recording its engagements up to `stage` leaves it."""
    return LeadActionStateFactory(action_company=action_company, lead=lead, stage=stage, **state)


def test_funnel_counts_distinct_leads_reaching_each_stage(action_engine_api, company, forms_action):
    leads = [LeadFactory(company=company) for _ in range(4)]
    _reach(forms_action, leads[0], "submitted")
    _reach(forms_action, leads[1], "opened", engagement_count=3)
    _reach(forms_action, leads[2], "sent")
    # A result recorded without its earlier stages (through a receiver) still counts for them.
    _reach(forms_action, leads[3], "submitted", sent_at=None, opened_at=None)
    response = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel")
    assert response.status_code == 200
    body = response.json()
    assert body["stages"] == [
        {"stage": "sent", "leads": 4, "conversion": None, "median_seconds_from_previous": None},
        {"stage": "opened", "leads": 3, "conversion": 0.75, "median_seconds_from_previous": 3600.0},
        {"stage": "submitted", "leads": 2, "conversion": 0.6667, "median_seconds_from_previous": 3600.0},
    ]
    assert body["overall_conversion"] == 0.5


def test_funnel_over_a_date_range(action_engine_api, company, forms_action):
    old, new = LeadFactory(company=company), LeadFactory(company=company)
    _reach(forms_action, old, "opened", at=timezone.now() - timedelta(days=40))
    _reach(forms_action, new, "sent")
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    body = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", {"since": since}).json()
    assert [stage["leads"] for stage in body["stages"]] == [1, 0, 0]
    until = (timezone.now() - timedelta(days=30)).isoformat()
    body = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", {"until": until}).json()
    assert [stage["leads"] for stage in body["stages"]] == [1, 1, 0]


def test_empty_funnel(action_engine_api, forms_action):
    body = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel").json()
    assert [stage["leads"] for stage in body["stages"]] == [0, 0, 0]
    assert body["overall_conversion"] is None


@pytest.mark.parametrize(
    "query", [{"since": "yesterday"}, {"since": "2026-02-30"}, {"since": "2026-03-02", "until": "2026-03-01"}]
)
def test_funnel_bad_dates_are_400(action_engine_api, forms_action, query):
    response = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_funnel_of_another_companys_action_is_404(other_api_key, forms_action):
    client = host_client(ACTION_ENGINE_API, other_api_key.token)
    assert client.get(f"/v1/company-actions/{forms_action.uuid}/funnel").status_code == 404


def test_the_admin_page_of_a_company_action_shows_its_funnel(admin_client, company, forms_action):
    from django.urls import reverse

    leads = [LeadFactory(company=company) for _ in range(2)]
    _reach(forms_action, leads[0], "opened")
    _reach(forms_action, leads[1], "sent")
    page = admin_client.get(reverse("admin:action_engine_actioncompany_change", args=[forms_action.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<table class="funnel">' in html
    assert "<tr><th>opened</th><td>1 (50%)</td><td>1 (50%)</td></tr>" in html
