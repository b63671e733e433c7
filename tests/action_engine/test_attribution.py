"""Attribution: a page's utm_*, referrer and landing URL on each engagement, the visitor's first touch kept once,
shown in the feed and the webhook payload; the `attribution` object refuses what is not attribution."""

import uuid

import pytest

from action_engine.models import Engagement
from crm.models import Visitor
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    forms_action,
    lead,
    public_api,
)
from workflows.payloads import engagement_payload

pytestmark = pytest.mark.django_db

NEWSLETTER = {
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "utm_term": "crm",
    "utm_content": "hero-button",
    "referrer": "https://mail.example.com/inbox",
    "landing_url": "https://shop.example.com/offer?utm_source=newsletter&token=secret.signed&lead=1",
}


def post(public_api, forms_action, lead, visitor, attribution, **headers):
    extra = {} if attribution is None else {"attribution": attribution}
    body = engagement_body(forms_action, lead, visitor, "opened", **extra)
    return public_api.post(ENGAGEMENTS_URL, body, format="json", **headers)


def test_each_engagement_keeps_its_attribution_and_the_visitor_its_first(public_api, crm_api, forms_action, lead):
    visitor = uuid.uuid4()
    first = post(public_api, forms_action, lead, visitor, NEWSLETTER, HTTP_IDEMPOTENCY_KEY="one")
    assert first.status_code == 201, first.content
    later = {"utm_source": "ads", "landing_url": "https://shop.example.com/offer?utm_source=ads"}
    second = post(public_api, forms_action, lead, visitor, later, HTTP_IDEMPOTENCY_KEY="two")
    assert second.status_code == 201, second.content

    # The share link's token is a credential: never kept in a stored URL; everything else is as sent.
    first_meta = {**NEWSLETTER, "landing_url": "https://shop.example.com/offer?utm_source=newsletter&lead=1"}
    assert Engagement.objects.get(uuid=first.json()["uuid"]).meta == first_meta
    assert Engagement.objects.get(uuid=second.json()["uuid"]).meta == later
    assert Visitor.objects.get(uuid=visitor).first_touch == first_meta

    entries = crm_api.get(f"/v1/leads/{lead.uuid}/feed").json()["results"]
    shown = [(entry["meta"], entry["first_touch"]) for entry in entries]
    assert shown == [(later, first_meta), (first_meta, first_meta)]

    payload = engagement_payload(engagement=Engagement.objects.get(uuid=second.json()["uuid"]))
    assert payload["data"]["engagement"]["meta"] == later
    assert payload["data"]["engagement"]["first_touch"] == first_meta


def test_a_first_touch_waits_for_the_first_attribution_and_blank_values_are_not_kept(public_api, forms_action, lead):
    visitor = uuid.uuid4()
    assert post(public_api, forms_action, lead, visitor, None, HTTP_IDEMPOTENCY_KEY="a").status_code == 201
    assert Visitor.objects.get(uuid=visitor).first_touch == {}
    attribution = {"utm_source": "ads", "utm_term": ""}
    response = post(public_api, forms_action, lead, visitor, attribution, HTTP_IDEMPOTENCY_KEY="b")
    assert response.status_code == 201, response.content
    assert Visitor.objects.get(uuid=visitor).first_touch == {"utm_source": "ads"}
    assert Engagement.objects.get(uuid=response.json()["uuid"]).meta == {"utm_source": "ads"}


def test_a_retry_with_other_attribution_is_the_same_request(public_api, forms_action, lead):
    visitor = uuid.uuid4()
    first = post(public_api, forms_action, lead, visitor, {"utm_source": "a"}, HTTP_IDEMPOTENCY_KEY="k")
    again = post(public_api, forms_action, lead, visitor, {"utm_source": "b"}, HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["uuid"] == first.json()["uuid"]
    assert Engagement.objects.get(uuid=first.json()["uuid"]).meta == {"utm_source": "a"}


@pytest.mark.parametrize(
    ("attribution", "field"),
    [
        ({"utm_sourcе": "typo"}, "utm_sourcе"),  # an unknown key (a Cyrillic е) is refused, not dropped
        ({"gclid": "abc"}, "gclid"),
        ({"utm_source": "x" * 201}, "utm_source"),
        ({"utm_source": 5}, "utm_source"),
        ({"referrer": "javascript:alert(1)"}, "referrer"),
        ({"referrer": "ftp://files.example.com/"}, "referrer"),
        ({"referrer": "https://user:pw@example.com/"}, "referrer"),
        ({"landing_url": "https://example.com/a b"}, "landing_url"),
        ({"landing_url": "https://example.com/\n"}, "landing_url"),
        ({"landing_url": "https://example.com/é"}, "landing_url"),
        ({"landing_url": "https://example.com/" + "a" * 2000}, "landing_url"),
        ({"landing_url": "/relative/path"}, "landing_url"),
    ],
)
def test_what_is_not_attribution_is_refused(public_api, forms_action, lead, attribution, field):
    response = post(public_api, forms_action, lead, uuid.uuid4(), attribution)
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [f"attribution.{field}"]
    assert not Engagement.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("attribution", ["utm_source=ads", ["ads"], 5, None])
def test_attribution_is_an_object(public_api, forms_action, lead, attribution):
    body = engagement_body(forms_action, lead, uuid.uuid4(), "opened", attribution=attribution)
    response = public_api.post(ENGAGEMENTS_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert [field.split(".")[0] for field in response.json()["errors"]] == ["attribution"]
