"""Sharing by email: the company's template filled in safely, the channel and Message-ID on the `sent`
engagement, the refusals, a real SMTP server, and the lead's unsubscribe link end to end."""

import re
import socket
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from action_engine.models import Engagement
from conftest import host_client
from crm.models import Visitor
from crm.services import lead_unsubscribe_token
from salesassist.hosts import CRM_API
from tests.action_engine.public_fixtures import forms_action, lead  # noqa: F401
from tests.crm.factories import LeadFactory
from tests.processes import free_port

pytestmark = pytest.mark.django_db

SMTP_PORT = free_port()
CLOSED_PORT = free_port()  # nothing listens there: the email server "is down"


def share(client, action_company, lead, **extra):
    return client.post(
        f"/v1/company-actions/{action_company.uuid}/share", {"lead": str(lead.uuid), **extra}, format="json"
    )


def unsubscribe_url(message) -> str:
    return re.search(r"Unsubscribe: (\S+)", message.body).group(1)


def test_email_sends_the_link_to_the_lead_and_records_channel_and_message_id(action_engine_api, forms_action, lead):
    response = share(action_engine_api, forms_action, lead, channel="email")
    assert response.status_code == 201, response.content
    body = response.json()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Acme: forms action"
    assert message.body.startswith("Hello Ada,\n\nAcme would like you to see this: forms action.\n\n")
    assert body["url"] in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'<a href="{body["url"].replace("&", "&amp;")}">' in html
    message_id = message.extra_headers["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith(">")
    assert (body["channel"], body["email_message_id"]) == ("email", message_id)
    engagement = Engagement.objects.get(uuid=body["engagement"])
    assert engagement.meta == {"channel": "email", "email_message_id": message_id}
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url(message)}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert urlsplit(unsubscribe_url(message)).path == f"/u/{lead.uuid}/"


def test_replies_go_to_the_leads_owner(action_engine_api, forms_action, lead, staff_user):
    staff_user.email = "rep@acme.example"
    staff_user.save()
    lead.owner = staff_user
    lead.save()
    share(action_engine_api, forms_action, lead, channel="email")
    assert mail.outbox[0].reply_to == ["rep@acme.example"]


def test_link_is_the_default_channel_and_sends_nothing(action_engine_api, forms_action, lead):
    body = share(action_engine_api, forms_action, lead).json()
    assert (body["channel"], body["email_message_id"]) == ("link", None)
    assert Engagement.objects.get(uuid=body["engagement"]).meta == {"channel": "link"}
    assert mail.outbox == []


def test_the_companys_template_fills_only_its_placeholders_and_escapes_html(
    action_engine_api, company, forms_action, lead
):
    company.settings = {
        "share_email": {
            "subject": "For {full_name}:\n{action_name} {unknown}",
            "body": "Dear {first_name} <{last_name}>,\n{{ settings.SECRET_KEY }} {% debug %} {0.__class__}\n{link}",
        }
    }
    company.save()
    lead.first_name = "<b>Ada</b>"
    lead.save()
    assert share(action_engine_api, forms_action, lead, channel="email").status_code == 201
    [message] = mail.outbox
    assert message.subject == "For <b>Ada</b> Lovelace: forms action {unknown}"
    assert message.body.startswith("Dear <b>Ada</b> <Lovelace>,\n{{ settings.SECRET_KEY }} {% debug %} {0.__class__}\n")
    html = message.alternatives[0][0]
    assert "Dear &lt;b&gt;Ada&lt;/b&gt; &lt;Lovelace&gt;," in html and "<b>" not in html
    assert "test-only-secret-key" not in message.body + html


def test_a_template_without_the_link_gets_it_anyway(action_engine_api, company, forms_action, lead):
    company.settings = {"share_email": {"body": "See you soon, {first_name}."}}
    company.save()
    body = share(action_engine_api, forms_action, lead, channel="email").json()
    assert mail.outbox[0].body.startswith(f"See you soon, Ada.\n\n{body['url']}\n")


def test_a_template_that_is_not_text_gives_the_default(action_engine_api, company, forms_action, lead):
    company.settings = {"share_email": {"subject": ["x"], "body": 5}}
    company.save()
    assert share(action_engine_api, forms_action, lead, channel="email").status_code == 201
    assert mail.outbox[0].subject == "Acme: forms action"


@pytest.mark.parametrize(
    ("lead_fields", "status", "code"),
    [
        ({"email": ""}, 422, "lead_without_email"),
        ({"unsubscribed_at": "2026-01-01T00:00:00Z"}, 409, "lead_unsubscribed"),
    ],
)
def test_email_refusals_record_and_send_nothing(action_engine_api, forms_action, company, lead_fields, status, code):
    who = LeadFactory(company=company, **{"first_name": "Bo", "email": "bo@example.com", **lead_fields})
    response = share(action_engine_api, forms_action, who, channel="email")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:salesassist:problem:{code}"
    assert mail.outbox == [] and not Visitor.objects.exists() and not Engagement.objects.exists()


def test_an_unknown_channel_is_a_400(action_engine_api, forms_action, lead):
    response = share(action_engine_api, forms_action, lead, channel="sms")
    assert response.status_code == 400 and "channel" in response.json()["errors"]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    class Keep:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def smtp_settings(settings, port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


def test_the_email_goes_through_a_real_smtp_server(action_engine_api, forms_action, lead, smtp_server, settings):
    smtp_settings(settings, SMTP_PORT)
    body = share(action_engine_api, forms_action, lead, channel="email").json()
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ada@example.com"]
    raw = envelope.content.decode()
    assert f"Message-ID: {body['email_message_id']}" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert "multipart/alternative" in raw
    assert Engagement.objects.get(uuid=body["engagement"]).meta["email_message_id"] == body["email_message_id"]


def test_an_email_server_that_does_not_answer_leaves_nothing(action_engine_api, forms_action, lead, settings):
    with socket.socket() as probe:  # the port is closed: a connection is refused
        assert probe.connect_ex(("127.0.0.1", CLOSED_PORT)) != 0
    smtp_settings(settings, CLOSED_PORT)
    response = share(action_engine_api, forms_action, lead, channel="email")
    assert response.status_code == 503
    assert response.json()["type"] == "urn:salesassist:problem:email_not_sent"
    assert not Visitor.objects.exists() and not Engagement.objects.exists()


# --- the unsubscribe link, end to end --------------------------------------------------------------


def test_unsubscribe_from_the_email_then_sharing_by_email_is_refused(
    action_engine_api, default_client, api_key, forms_action, lead
):
    share(action_engine_api, forms_action, lead, channel="email")
    url = urlsplit(unsubscribe_url(mail.outbox[0]))
    page = f"{url.path}?{url.query}"

    asked = default_client.get(page)  # opening the link (a mail scanner too) only asks
    assert asked.status_code == 200 and b'<form method="post"' in asked.content
    lead.refresh_from_db()
    assert lead.unsubscribed_at is None

    done = default_client.post(page)
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    lead.refresh_from_db()
    first_time = lead.unsubscribed_at
    assert first_time is not None

    again = default_client.post(page, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200 and b"You are unsubscribed" in again.content
    assert default_client.get(page).content.count(b"You are unsubscribed") == 1
    lead.refresh_from_db()
    assert lead.unsubscribed_at == first_time

    crm_lead = host_client(CRM_API, api_key.token).get(f"/v1/leads/{lead.uuid}").json()
    assert crm_lead["unsubscribed_at"] is not None
    refused = share(action_engine_api, forms_action, lead, channel="email")
    assert (refused.status_code, refused.json()["type"]) == (409, "urn:salesassist:problem:lead_unsubscribed")
    assert len(mail.outbox) == 1
    assert share(action_engine_api, forms_action, lead).status_code == 201  # the rep may still send the link


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_wrong_token_or_lead_unsubscribes_nobody(default_client, company, lead, method):
    other = LeadFactory(company=company, email="other@example.com")
    pages = [
        f"/u/{lead.uuid}/?token=forged",
        f"/u/{lead.uuid}/",
        f"/u/{other.uuid}/?token={lead_unsubscribe_token(lead=lead)}",
        f"/u/00000000-0000-4000-8000-000000000000/?token={lead_unsubscribe_token(lead=lead)}",
    ]
    for page in pages:
        response = getattr(default_client, method)(page)
        assert response.status_code == 404 and b"This link is not valid" in response.content
    lead.refresh_from_db()
    other.refresh_from_db()
    assert lead.unsubscribed_at is None and other.unsubscribed_at is None
