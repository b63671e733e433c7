"""api.crm/v1/leads/{uuid}/feed: newest first, filters, cursor paging, one query per page."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from action_engine.choices import Stage
from action_engine.models import Engagement
from tests.action_engine.factories import ActionCompanyFactory, EngagementFactory
from tests.crm.factories import LeadFactory, VisitorFactory

pytestmark = pytest.mark.django_db


def make_feed(lead, count, *, action_company=None, start=None, stage=Stage.OPENED):
    """`count` engagements of the lead one minute apart, oldest first; returns them newest first."""
    action_company = action_company or ActionCompanyFactory(company=lead.company)
    visitor = VisitorFactory(company=lead.company, lead=lead)
    start = start or timezone.now() - timedelta(days=1)
    rows = []
    for index in range(count):
        engagement = EngagementFactory(
            company=lead.company, action_company=action_company, lead=lead, visitor=visitor, stage=stage
        )
        Engagement.objects.filter(pk=engagement.pk).update(created_at=start + timedelta(minutes=index))
        rows.append(engagement)
    return list(reversed(rows))


def feed_url(lead, query=""):
    return f"/v1/leads/{lead.uuid}/feed{'?' + query if query else ''}"


def test_feed_lists_the_leads_engagements_newest_first_with_their_details(crm_api, company):
    lead = LeadFactory(company=company)
    expected = make_feed(lead, 3)
    EngagementFactory(company=company)  # another lead's
    response = crm_api.get(feed_url(lead))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["uuid"] for row in results] == [str(e.uuid) for e in expected]
    first, engagement = results[0], expected[0]
    action_company = engagement.action_company
    assert first["stage"] == "opened" and first["previous_stage"] == "sent"
    assert first["visitor"] == str(engagement.visitor.uuid)
    assert first["message"] == engagement.message.body
    assert first["action"] == {
        "uuid": str(action_company.uuid),
        "name": action_company.name,
        "action_type": {
            "uuid": str(action_company.action.type.uuid),
            "slug": action_company.action.type.slug,
            "name": action_company.action.type.name,
        },
        "system": {
            "uuid": str(action_company.action.system.uuid),
            "slug": "forms",
            "name": action_company.action.system.name,
        },
    }


def test_feed_filters_by_action_stage_and_time(crm_api, company):
    lead = LeadFactory(company=company)
    start = timezone.now() - timedelta(days=2)
    first_action = ActionCompanyFactory(company=company)
    second_action = ActionCompanyFactory(company=company)
    opened = make_feed(lead, 2, action_company=first_action, start=start)
    later = start + timedelta(hours=1)
    submitted = make_feed(lead, 2, action_company=second_action, start=later, stage=Stage.SUBMITTED)

    def uuids(query):
        response = crm_api.get(feed_url(lead, query))
        assert response.status_code == 200, response.content
        return [row["uuid"] for row in response.json()["results"]]

    assert uuids(f"action={first_action.uuid}") == [str(e.uuid) for e in opened]
    assert uuids("stage=submitted") == [str(e.uuid) for e in submitted]
    since = (start + timedelta(hours=1)).isoformat()
    assert uuids(f"since={since.replace('+', '%2B')}") == [str(e.uuid) for e in submitted]
    until = (start + timedelta(minutes=1)).isoformat().replace("+", "%2B")
    assert uuids(f"until={until}") == [str(opened[-1].uuid)]


@pytest.mark.parametrize("query", ["stage=flying", "since=yesterday", "action=not-a-uuid"])
def test_bad_filters_are_400(crm_api, company, query):
    lead = LeadFactory(company=company)
    response = crm_api.get(feed_url(lead, query))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_feed_pages_with_a_cursor_across_pages(crm_api, company):
    lead = LeadFactory(company=company)
    expected = [str(e.uuid) for e in make_feed(lead, 7)]
    seen, url, pages = [], feed_url(lead, "page_size=3"), 0
    while url:
        response = crm_api.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [row["uuid"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert "count" not in body  # no COUNT(*): a cursor page never scans the whole feed
    assert pages == 3
    assert seen == expected


def test_feed_query_count_does_not_grow_with_the_feed(crm_api, company):
    lead = LeadFactory(company=company)
    make_feed(lead, 2)
    crm_api.get(feed_url(lead))  # the key's last_used_at is written on first use only

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = crm_api.get(feed_url(lead))
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    small, small_rows = queries()
    make_feed(lead, 30, action_company=ActionCompanyFactory(company=company))
    large, large_rows = queries()
    assert (small_rows, large_rows) == (2, 32)
    assert small == large
    # the key lookup, the lead lookup and the page itself
    assert large == 3


def test_another_companys_lead_has_no_feed(crm_api, other_company):
    lead = LeadFactory(company=other_company)
    make_feed(lead, 1)
    response = crm_api.get(feed_url(lead))
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_invalid_lead_uuid_in_the_url_is_404(crm_api):
    response = crm_api.get("/v1/leads/not-a-uuid/feed")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
