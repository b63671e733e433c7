"""A lead's export and erasure, through every path its data takes: after the erasure no table of the database
still holds its name, email or phone."""
import json
import uuid

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, models

from action_engine.models import Engagement, LeadActionState, Message, ReceiverCall
from conftest import host_client
from crm.models import Lead, LeadErasure, LeadReceiverAttempt, Visitor
from crm.lead_data import lead_data_sections
from salesassist.core.exceptions import Conflict
from salesassist.hosts import ACTION_ENGINE_API, CRM_API
from tests.action_engine.public_fixtures import ENGAGEMENTS_URL, engagement_body, forms_action, page_query  # noqa: F401
from tests.crm.factories import LeadReceiverFactory
from tests.workflows.conftest import attach_webhook
from tests.workflows.sink import Reply, Sink
from tests.workflows.factories import WorkflowFactory
from workflows.choices import DeliveryStatus, WorkflowEvent
from workflows.models import Delivery, DeliveryAttempt
from workflows.services import deliveries_sweep, delivery_replay

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.usefixtures("q_sync_mode")]

FIRST, LAST = "Zebulon", "Quixotewright"
EMAIL = "zebulon.quixotewright@example.org"
PHONE = "+44 20 7946 0958"
PHONE_DIGITS = "442079460958"
NEEDLES = (FIRST, LAST, EMAIL, PHONE, PHONE_DIGITS)
RECEIVER_MAPPING = {"lead": "contact.id", "visitor": "contact.browser", "stage": "event", "message": "payload"}
LEAD_TEMPLATE = {
    "fields": {
        "email": "contact.email",
        "phone": "contact.phone",
        "first_name": "contact.first",
        "last_name": "contact.last",
    }
}


@pytest.fixture
def q_sync_mode(monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def sinks():
    """Targets whose answers name the lead (a third party may echo what it got), and one that answers "ok" (it
    receives other leads' events too: what it says is no data of this lead's)."""
    failing, succeeding, quiet = Sink(), Sink(), Sink()
    failing.default = Reply(500, body=f"no thanks {EMAIL}".encode())
    succeeding.default = Reply(200, body=f"got {EMAIL}".encode())
    yield failing, succeeding, quiet
    for sink in (failing, succeeding, quiet):
        sink.close()


def text_columns(model) -> list[str]:
    return [
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField, models.JSONField))
    ]


def model_hits(needle: str) -> list[str]:
    """model.column pairs of every installed model (django.apps) where a text or JSON column holds `needle`."""
    hits = []
    table = connection.ops.quote_name
    for model in apps.get_models(include_auto_created=True):
        for column in text_columns(model):
            sql = (
                f"SELECT COUNT(*) FROM {table(model._meta.db_table)} "
                f"WHERE LOWER(CAST({table(column)} AS TEXT)) LIKE %s"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [f"%{needle.lower()}%"])
                if cursor.fetchone()[0]:
                    hits.append(f"{model._meta.label}.{column}")
    return hits


def all_columns() -> list[tuple[str, str]]:
    """Every (table, column) of the database, whoever made it (django-q2's, the admin log, migrations')."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            )
            return list(cursor.fetchall())
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        return [
            (name, column.name) for name in tables for column in connection.introspection.get_table_description(cursor, name)
        ]


def raw_hits(needle: str) -> list[str]:
    hits = []
    quote = connection.ops.quote_name
    for table, column in all_columns():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {quote(table)} WHERE LOWER(CAST({quote(column)} AS TEXT)) LIKE %s",
                [f"%{needle.lower()}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def seed_lead_everywhere(*, company, forms_action, sinks, superuser, crm_api, django_capture_on_commit_callbacks):
    """One lead through every path its data takes; answers the lead."""
    failing, succeeding, quiet = sinks
    attach_webhook(forms_action, failing.url("/fails"))
    attach_webhook(forms_action, succeeding.url("/succeeds"))
    # Lead events keep a snapshot of the lead in their delivery.
    WorkflowFactory(
        company=company,
        config={"url": quiet.url("/lead-events")},
        events=[WorkflowEvent.LEAD_CREATED, WorkflowEvent.LEAD_UPDATED],
    )
    public_crm = host_client(CRM_API)
    receiver = LeadReceiverFactory(company=company, template=LEAD_TEMPLATE)
    contact = {"email": EMAIL, "phone": PHONE, "first": FIRST, "last": LAST, "note": f"call {PHONE}"}
    made = public_crm.post(
        f"/v1/receivers/{receiver.uuid}/leads", {"contact": contact}, format="json", HTTP_USER_AGENT=FIRST
    )
    assert made.status_code == 201, made.content
    lead = Lead.objects.get(uuid=made.json()["lead"])
    # The same lead again (updated), then a call that failed (an invalid status) before it reached the lead.
    again = public_crm.post(f"/v1/receivers/{receiver.uuid}/leads", {"contact": {"email": EMAIL}}, format="json")
    assert again.status_code == 200, again.content
    receiver.template = {**LEAD_TEMPLATE, "fields": {**LEAD_TEMPLATE["fields"], "status": "status"}}
    receiver.save()
    failed = public_crm.post(f"/v1/receivers/{receiver.uuid}/leads", {"contact": contact, "status": "x"}, format="json")
    assert failed.status_code == 400, failed.content

    # A bulk import naming it, next to another lead.
    imported = crm_api.post(
        "/v1/leads/import",
        data=f"email,phone,note\n{EMAIL},{PHONE},met {FIRST} {LAST}\nother@example.com,,\n",
        content_type="text/csv",
    )
    assert [row["outcome"] for row in imported.json()["results"]] == ["updated", "created"], imported.content

    # The public page: opened, then a form submission with the email, phone and name.
    public_api = host_client(ACTION_ENGINE_API)
    visitor = uuid.uuid4()
    page = public_api.get(
        f"/v1/public/actions/{forms_action.uuid}",
        page_query(forms_action, lead, visitor),
        HTTP_USER_AGENT=f"Mozilla/5.0 ({EMAIL})",
    )
    assert page.status_code == 200, page.content
    form_data = {"data": {"email": EMAIL, "name": f"{FIRST} {LAST}", "phone": PHONE}}
    with django_capture_on_commit_callbacks(execute=True):
        for stage, message in (("opened", None), ("submitted", form_data)):
            response = public_api.post(
                ENGAGEMENTS_URL,
                engagement_body(forms_action, lead, visitor, stage, message),
                format="json",
                HTTP_USER_AGENT=f"Mozilla/5.0 ({EMAIL})",
            )
            assert response.status_code == 201, response.content

    # An action receiver call, and one that failed before it made an engagement.
    action_receiver = forms_action.receivers.get(is_active=True)
    action_receiver.mapping = RECEIVER_MAPPING
    action_receiver.save()
    call = {
        "event": "opened",
        "contact": {"id": str(lead.uuid), "browser": str(uuid.uuid4())},
        "payload": {"email": EMAIL, "who": f"{FIRST} {LAST}"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = public_api.post(
            f"/v1/receivers/{action_receiver.uuid}", json.dumps(call), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    broken = {**call, "event": "no-such-stage"}
    response = public_api.post(f"/v1/receivers/{action_receiver.uuid}", json.dumps(broken), content_type="application/json")
    assert response.status_code == 400, response.content

    # An admin edit: the admin's history names the lead.
    LogEntry.objects.create(
        user=superuser,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Phone"]}}]),
    )
    assert Delivery.objects.filter(engagement__lead=lead, status=DeliveryStatus.SUCCEEDED).exists()
    assert Delivery.objects.filter(engagement__lead=lead, status=DeliveryStatus.FAILED).exists()
    assert EMAIL in json.dumps(Delivery.objects.filter(lead=lead, event_type="lead.created").get().payload)
    return lead


def test_after_the_erasure_no_table_holds_the_leads_name_email_or_phone(
    company, forms_action, sinks, superuser, crm_api, django_capture_on_commit_callbacks
):
    lead = seed_lead_everywhere(
        company=company,
        forms_action=forms_action,
        sinks=sinks,
        superuser=superuser,
        crm_api=crm_api,
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    # The search sees the data before the erasure: it cannot pass for not looking.
    before = {needle: raw_hits(needle) for needle in NEEDLES}
    assert all(before.values()), before
    assert "workflows_deliveryattempt.request_body" in raw_hits(EMAIL)
    assert "action_engine_message.body" in model_hits(EMAIL) or "action_engine.Message.body" in model_hits(EMAIL)
    engagements_before = list(Engagement.objects.filter(lead=lead).values_list("stage", "created_at", "action_company"))
    states_before = list(LeadActionState.objects.filter(lead=lead).values_list("action_company", "stage", "stage_rank"))
    failing, *_ = sinks
    sent_to_failing = len(failing.requests)

    response = crm_api.post(f"/v1/leads/{lead.uuid}/erase")

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["already_erased"] is False and answer["lead"] == str(lead.uuid)
    assert answer["erased_by"].startswith("api_key:")
    for needle in NEEDLES:
        assert model_hits(needle) == [], needle
        assert raw_hits(needle) == [], needle
    # The anonymous skeleton stays: the engagements' stages, times and actions, the state rows.
    assert list(Engagement.objects.filter(lead=lead).values_list("stage", "created_at", "action_company")) == (
        engagements_before
    )
    assert list(LeadActionState.objects.filter(lead=lead).values_list("action_company", "stage", "stage_rank")) == (
        states_before
    )
    erasure = LeadErasure.objects.get(lead=lead)
    assert erasure.erased_counts["crm.Lead"] == 1
    assert erasure.erased_counts["action_engine.Message"] == Message.objects.filter(engagement__lead=lead).count() == 3
    assert erasure.erased_counts["crm.LeadReceiverAttempt"] == LeadReceiverAttempt.objects.count() == 3
    assert erasure.erased_counts["action_engine.ReceiverCall"] == ReceiverCall.objects.count() == 2
    its_attempts = DeliveryAttempt.objects.filter(models.Q(delivery__engagement__lead=lead) | models.Q(delivery__lead=lead))
    assert erasure.erased_counts["workflows.DeliveryAttempt"] == its_attempts.count()
    assert erasure.erased_counts["crm.Visitor"] == Visitor.objects.filter(lead=lead).count() >= 1
    # Its deliveries not sent are cancelled: neither the sweeper nor a replay sends them.
    cancelled = Delivery.objects.get(engagement__lead=lead, status=DeliveryStatus.CANCELLED, workflow__config__url=failing.url("/fails"), engagement__stage="submitted")
    deliveries_sweep()
    with pytest.raises(Conflict):
        delivery_replay(delivery=cancelled)
    succeeded = Delivery.objects.filter(engagement__lead=lead, status=DeliveryStatus.SUCCEEDED).first()
    with pytest.raises(Conflict):
        delivery_replay(delivery=succeeded)
    assert len(failing.requests) == sent_to_failing
    assert not Delivery.objects.filter(engagement__lead=lead, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).exists()

    # Once erased, twice: the first audit stays and is the answer.
    again = crm_api.post(f"/v1/leads/{lead.uuid}/erase")
    assert again.status_code == 200 and again.json()["already_erased"] is True
    assert again.json()["uuid"] == answer["uuid"] and LeadErasure.objects.count() == 1
    # And it can no longer be engaged: its page is a 404.
    page = host_client(ACTION_ENGINE_API).get(
        f"/v1/public/actions/{forms_action.uuid}", page_query(forms_action, lead, uuid.uuid4())
    )
    assert page.status_code == 404


def test_the_export_is_one_document_with_everything_held_about_the_lead(
    company, forms_action, sinks, superuser, crm_api, django_capture_on_commit_callbacks
):
    lead = seed_lead_everywhere(
        company=company,
        forms_action=forms_action,
        sinks=sinks,
        superuser=superuser,
        crm_api=crm_api,
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    response = crm_api.get(f"/v1/leads/{lead.uuid}/export")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    document = json.loads(b"".join(response.streaming_content))
    assert [*document] == ["lead", "erasure", *(section.name for section in lead_data_sections.exported())]
    assert document["lead"]["email"] == EMAIL and document["erasure"] is None
    assert len(document["engagements"]) == 3
    assert {engagement["stage"] for engagement in document["engagements"]} == {"opened", "submitted"}
    messages = [engagement["message"] for engagement in document["engagements"]]
    assert any(EMAIL in json.dumps(message) and PHONE in json.dumps(message) for message in messages), messages
    assert len(document["lead_receiver_attempts"]) == 3
    assert len(document["receiver_calls"]) == 2
    assert len(document["lead_imports"]) == 1
    assert [state["stage"] for state in document["action_states"]] == list(
        LeadActionState.objects.filter(lead=lead).values_list("stage", flat=True)
    )
    assert document["visitors"][0]["user_agent"] == f"Mozilla/5.0 ({EMAIL})"
    attempts = [attempt for delivery in document["deliveries"] for attempt in delivery["attempts"]]
    lead_events = Delivery.objects.filter(lead=lead, engagement=None)
    assert lead_events.exists() and len(document["deliveries"]) == 6 + lead_events.count()
    assert any(EMAIL in attempt["request_body"] for attempt in attempts)
    snapshots = [delivery["payload"] for delivery in document["deliveries"] if delivery["engagement"] is None]
    assert {payload["type"] for payload in snapshots} >= {"lead.created"}
    assert all(payload["data"]["lead"]["uuid"] == str(lead.uuid) for payload in snapshots)

    erased = crm_api.post(f"/v1/leads/{lead.uuid}/erase")
    after = json.loads(b"".join(crm_api.get(f"/v1/leads/{lead.uuid}/export").streaming_content))
    assert after["erasure"]["uuid"] == erased.json()["uuid"]
    assert EMAIL not in json.dumps(after) and FIRST not in json.dumps(after)


def test_another_companys_lead_is_not_found(crm_api, other_company):
    from tests.crm.factories import LeadFactory

    lead = LeadFactory(company=other_company)
    assert crm_api.get(f"/v1/leads/{lead.uuid}/export").status_code == 404
    assert crm_api.post(f"/v1/leads/{lead.uuid}/erase").status_code == 404
    assert Lead.objects.get(pk=lead.pk).email


def test_a_read_only_key_cannot_erase(read_only_key, company):
    from tests.crm.factories import LeadFactory

    lead = LeadFactory(company=company)
    client = host_client(CRM_API, read_only_key.token)
    assert client.post(f"/v1/leads/{lead.uuid}/erase").status_code == 403
    assert not LeadErasure.objects.exists()


def test_the_commands_export_then_erase_once(company, tmp_path, capsys):
    from tests.crm.factories import LeadFactory

    lead = LeadFactory(company=company, email=EMAIL, first_name=FIRST)
    output = tmp_path / "lead.json"
    call_command("lead_export", str(lead.uuid), "--output", str(output))
    assert json.loads(output.read_text())["lead"]["email"] == EMAIL

    call_command("lead_erase", str(lead.uuid))
    first = json.loads(capsys.readouterr().out)
    call_command("lead_erase", str(lead.uuid))
    captured = capsys.readouterr()
    assert json.loads(captured.out) == first and "Already erased" in captured.err
    lead.refresh_from_db()
    assert (lead.email, lead.first_name, lead.is_deleted) == ("", "", True)
    assert LeadErasure.objects.get().erased_by_user is None


def test_the_admin_actions_export_and_erase(company, admin_client, superuser):
    from tests.crm.factories import LeadFactory

    lead = LeadFactory(company=company, email=EMAIL, first_name=FIRST)
    url = "/admin/crm/lead/"
    exported = admin_client.post(url, {"action": "export_lead", "_selected_action": [lead.pk]})
    assert exported.status_code == 200
    assert json.loads(b"".join(exported.streaming_content))["lead"]["email"] == EMAIL

    erased = admin_client.post(url, {"action": "erase_leads", "_selected_action": [lead.pk]})
    assert erased.status_code == 302
    assert LeadErasure.objects.get(lead=lead).erased_by_user == superuser
    assert Lead.all_objects.get(pk=lead.pk).email == ""
