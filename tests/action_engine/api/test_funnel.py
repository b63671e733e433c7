"""A company action's funnel counted over the pipeline state: median times, buckets in a time zone, filters."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.action_engine.factories import LeadActionStateFactory
from tests.action_engine.public_fixtures import forms_action  # noqa: F401
from tests.crm.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def funnel(client, action_company, **query):
    response = client.get(f"/v1/company-actions/{action_company.uuid}/funnel", query)
    assert response.status_code == 200, response.json()
    return response.json()


def counts(stages) -> list[int]:
    return [stage["leads"] for stage in stages]


def started(action_company, stage, at, *, step=timedelta(hours=1), lead=None, **state):
    """A lead that was sent the action at `at` and got to `stage`, one `step` per stage."""
    rank = ("sent", "opened", "submitted").index(stage)
    return LeadActionStateFactory(
        action_company=action_company,
        lead=lead or LeadFactory(company=action_company.company),
        stage=stage,
        at=at + rank * step,
        step=step,
        **state,
    )


def test_the_median_time_between_stages(action_engine_api, forms_action):
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for hours in (1, 2, 10):
        started(forms_action, "opened", at, step=timedelta(hours=hours))
    started(forms_action, "submitted", at, step=timedelta(minutes=30))
    started(forms_action, "submitted", at, step=timedelta(minutes=90))
    # A result recorded without the stage before it has no time from it.
    started(forms_action, "submitted", at, opened_at=None)
    stages = funnel(action_engine_api, forms_action)["stages"]
    assert counts(stages) == [6, 6, 3]
    # opened: 0.5h, 1h, 1.5h, 2h, 10h (median of five); submitted: 0.5h and 1.5h (mean of the middle two).
    assert [stage["median_seconds_from_previous"] for stage in stages] == [None, 5400.0, 3600.0]


def test_daily_buckets_in_a_time_zone(action_engine_api, forms_action):
    # 23:30 UTC on 1 March is 00:30 on 2 March in Paris.
    started(forms_action, "opened", datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    started(forms_action, "sent", datetime(2026, 3, 2, 10, tzinfo=UTC))
    started(forms_action, "submitted", datetime(2026, 3, 4, 10, tzinfo=UTC))
    in_utc = funnel(action_engine_api, forms_action, bucket="day")
    assert in_utc["tz"] == "UTC" and in_utc["bucket"] == "day"
    assert [(b["start"], b["day"], counts(b["stages"])) for b in in_utc["buckets"]] == [
        ("2026-03-01T00:00:00Z", "2026-03-01", [1, 1, 0]),
        ("2026-03-02T00:00:00Z", "2026-03-02", [1, 0, 0]),
        ("2026-03-04T00:00:00Z", "2026-03-04", [1, 1, 1]),
    ]
    in_paris = funnel(action_engine_api, forms_action, bucket="day", tz="Europe/Paris")
    # Each bucket starts at midnight in Paris; the instant is written in UTC, as every time of the API.
    assert [(b["start"], b["day"], counts(b["stages"])) for b in in_paris["buckets"]] == [
        ("2026-03-01T23:00:00Z", "2026-03-02", [2, 1, 0]),
        ("2026-03-03T23:00:00Z", "2026-03-04", [1, 1, 1]),
    ]
    assert counts(in_paris["stages"]) == [3, 2, 1]
    assert in_paris["buckets"][0]["overall_conversion"] == 0.0


def test_buckets_follow_the_local_calendar_across_clock_changes(action_engine_api, forms_action):
    # Havana skips its midnight in spring (00:00 -> 01:00, 8 March 2026) and has two in autumn (01:00 -> 00:00,
    # 1 November): a day starts at its first instant, and a lead belongs to the day of its local date.
    for at in ("2026-03-08T04:59:59", "2026-03-08T05:00:00", "2026-11-01T03:59:59", "2026-11-01T04:30:00"):
        started(forms_action, "sent", datetime.fromisoformat(at).replace(tzinfo=UTC))
    # 04:30 UTC is 00:30 on 1 November before the clocks go back (and 05:30 the second 00:30, that day too).
    started(forms_action, "sent", datetime(2026, 11, 1, 5, 30, tzinfo=UTC))
    days = funnel(action_engine_api, forms_action, bucket="day", tz="America/Havana")["buckets"]
    assert [(b["start"], b["day"], counts(b["stages"])) for b in days] == [
        ("2026-03-07T05:00:00Z", "2026-03-07", [1, 0, 0]),
        ("2026-03-08T05:00:00Z", "2026-03-08", [1, 0, 0]),
        ("2026-10-31T04:00:00Z", "2026-10-31", [1, 0, 0]),
        ("2026-11-01T04:00:00Z", "2026-11-01", [2, 0, 0]),
    ]
    # Paris changes in the night of 25 October: that week is 169 hours long and starts at UTC+2, the next at UTC+1.
    started(forms_action, "sent", datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC))  # Sunday 23:59:59 in Paris
    started(forms_action, "sent", datetime(2026, 10, 25, 23, tzinfo=UTC))  # Monday 00:00
    query = {"bucket": "week", "tz": "Europe/Paris", "since": "2026-10-01", "until": "2026-10-30"}
    weeks = funnel(action_engine_api, forms_action, **query)["buckets"]
    assert [(b["start"], counts(b["stages"])) for b in weeks] == [
        ("2026-10-18T22:00:00Z", [1, 0, 0]),
        ("2026-10-25T23:00:00Z", [1, 0, 0]),
    ]


def test_weekly_and_monthly_buckets(action_engine_api, forms_action):
    started(forms_action, "sent", datetime(2026, 3, 1, 12, tzinfo=UTC))  # a Sunday
    started(forms_action, "sent", datetime(2026, 3, 2, 12, tzinfo=UTC))  # the Monday after
    started(forms_action, "sent", datetime(2026, 4, 1, 12, tzinfo=UTC))
    weeks = funnel(action_engine_api, forms_action, bucket="week")["buckets"]
    assert [b["start"] for b in weeks] == ["2026-02-23T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-30T00:00:00Z"]
    months = funnel(action_engine_api, forms_action, bucket="month", since="2026-03-01", until="2026-05-01")
    assert [(b["start"], counts(b["stages"])) for b in months["buckets"]] == [
        ("2026-03-01T00:00:00Z", [2, 0, 0]),
        ("2026-04-01T00:00:00Z", [1, 0, 0]),
    ]


def test_owner_source_and_utm_source_narrow_the_funnel(action_engine_api, company, forms_action):
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    grace = UserFactory(username="grace")
    started(forms_action, "submitted", at, lead=LeadFactory(company=company, owner=grace, source="fair"))
    started(forms_action, "opened", at, lead=LeadFactory(company=company, source="fair"), utm_source="newsletter")
    started(forms_action, "sent", at, lead=LeadFactory(company=company, source=""), utm_source="newsletter")
    assert counts(funnel(action_engine_api, forms_action, owner="grace")["stages"]) == [1, 1, 1]
    assert counts(funnel(action_engine_api, forms_action, owner="nobody")["stages"]) == [0, 0, 0]
    assert counts(funnel(action_engine_api, forms_action, source="fair")["stages"]) == [2, 2, 1]
    assert counts(funnel(action_engine_api, forms_action, source="")["stages"]) == [1, 0, 0]
    assert counts(funnel(action_engine_api, forms_action, utm_source="newsletter")["stages"]) == [2, 1, 0]
    assert counts(funnel(action_engine_api, forms_action, utm_source="")["stages"]) == [1, 1, 1]


def test_split_by_utm_source(action_engine_api, forms_action):
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    started(forms_action, "submitted", at)
    started(forms_action, "opened", at, utm_source="newsletter")
    started(forms_action, "sent", at + timedelta(days=1), utm_source="newsletter")
    split = funnel(action_engine_api, forms_action, split="utm_source")["buckets"]
    assert [(b["start"], b["utm_source"], counts(b["stages"])) for b in split] == [
        (None, "", [1, 1, 1]),
        (None, "newsletter", [2, 1, 0]),
    ]
    daily = funnel(action_engine_api, forms_action, split="utm_source", bucket="day")["buckets"]
    assert [(b["day"], b["utm_source"], counts(b["stages"])) for b in daily] == [
        ("2026-03-02", "", [1, 1, 1]),
        ("2026-03-02", "newsletter", [1, 1, 0]),
        ("2026-03-03", "newsletter", [1, 0, 0]),
    ]


@pytest.mark.parametrize(("query", "queries"), [({}, 1), ({"bucket": "week"}, 2), ({"split": "utm_source"}, 2)])
def test_the_funnel_is_one_or_two_queries_however_many_leads(
    action_engine_api, forms_action, django_assert_num_queries, query, queries
):
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    funnel(action_engine_api, forms_action)  # the key's first use of the minute also stores its last_used_at
    for leads in (1, 20):
        for n in range(leads):
            started(forms_action, ("sent", "opened", "submitted")[n % 3], at + timedelta(days=n))
        # The API key with its company, the company action, then the funnel.
        with django_assert_num_queries(2 + queries):
            funnel(action_engine_api, forms_action, **query)


@pytest.mark.parametrize(
    "query",
    [{"bucket": "year"}, {"bucket": ""}, {"tz": "Mars/Olympus"}, {"tz": ""}, {"split": "source"}, {"owner": ""}],
)
def test_bad_funnel_options_are_400(action_engine_api, forms_action, query):
    response = action_engine_api.get(f"/v1/company-actions/{forms_action.uuid}/funnel", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert next(iter(query)) in str(response.json())
