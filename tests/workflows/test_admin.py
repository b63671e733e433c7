"""Workflow admin: secrets stay hidden, the page lists only the most recent deliveries."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from salesassist.core.admin import RecentRowsFormSet
from salesassist.core.exceptions import InvalidInput
from tests.action_engine.factories import ActionCompanyFactory, ActionFactory, EngagementFactory
from tests.workflows.factories import DeliveryAttemptFactory, DeliveryFactory, WorkflowFactory
from workflows.models import ActionWorkflow, Workflow
from workflows.services import action_company_workflow_attach, action_company_workflow_update, action_workflow_attach

pytestmark = pytest.mark.django_db


def test_workflow_pages_never_show_its_secrets(admin_client):
    workflow = WorkflowFactory(
        previous_secret="whsec_cHJldmlvdXMtc2VjcmV0LXZhbHVlLTEyMzQ=",
        previous_secret_expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    for url in (
        reverse("admin:workflows_workflow_change", args=[workflow.pk]),
        reverse("admin:workflows_workflow_changelist"),
    ):
        page = admin_client.get(url).content.decode()
        assert workflow.secret not in page
        assert workflow.previous_secret not in page


def post_workflow(admin_client, workflow, **changes):
    return admin_client.post(
        reverse("admin:workflows_workflow_change", args=[workflow.pk]),
        {
            "company": workflow.company.pk,
            "name": "Renamed",
            "kind": workflow.kind,
            "config": '{"url": "http://127.0.0.1:9/hook"}',
            "events": '["engagement.*"]',
            "stages": '["submitted"]',
            "conditions": "[]",
            "is_active": "on",
            "pause_reason": "",
            "deliveries-TOTAL_FORMS": 0,
            "deliveries-INITIAL_FORMS": 0,
            **changes,
        },
    )


def test_editing_a_workflow_keeps_its_secret(admin_client):
    workflow = WorkflowFactory(stages=["submitted"])
    secret = workflow.secret
    response = post_workflow(admin_client, workflow)
    assert response.status_code == 302, response.context["adminform"].form.errors
    workflow.refresh_from_db()
    assert workflow.name == "Renamed" and workflow.secret == secret


def test_workflow_page_lists_only_the_most_recent_deliveries(admin_client):
    workflow = WorkflowFactory()
    limit = RecentRowsFormSet.recent_limit
    deliveries = [
        DeliveryFactory(workflow=workflow, engagement=EngagementFactory(company=workflow.company))
        for _ in range(limit + 3)
    ]
    page = admin_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk]))
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    shown = [form.instance.pk for form in inline.formset.forms]
    newest_first = sorted(deliveries, key=lambda d: (d.created_at, d.pk), reverse=True)
    assert shown == [d.pk for d in newest_first[:limit]]
    assert f"?workflow__id__exact={workflow.pk}" in page.content.decode()


def test_delivery_page_shows_its_attempts(admin_client):
    attempt = DeliveryAttemptFactory(error_class="ConnectTimeout")
    page = admin_client.get(reverse("admin:workflows_delivery_change", args=[attempt.delivery.pk]))
    assert page.status_code == 200
    assert "ConnectTimeout" in page.content.decode()


def test_deleted_workflows_leave_the_changelist(admin_client):
    live, gone = WorkflowFactory(), WorkflowFactory()
    gone.delete()
    listed = admin_client.get(reverse("admin:workflows_workflow_changelist")).context["cl"].result_list
    assert [w.pk for w in listed] == [live.pk]
    assert Workflow.all_objects.filter(pk=gone.pk).exists()


@pytest.mark.parametrize(("scope", "expected"), [("global", "global"), ("company", "own"), (None, "both")])
def test_the_scope_filter_splits_global_and_company_workflows(admin_client, scope, expected):
    global_workflow, own = WorkflowFactory(company=None), WorkflowFactory()
    rows = {"global": [global_workflow], "own": [own], "both": [global_workflow, own]}[expected]
    query = {"scope": scope} if scope else {}
    listed = admin_client.get(reverse("admin:workflows_workflow_changelist"), query).context["cl"].result_list
    assert {w.pk for w in listed} == {w.pk for w in rows}


@pytest.mark.parametrize("stages", ["5", '["bought"]', '"submitted"'])
def test_stages_are_checked_as_the_api_checks_them(admin_client, stages):
    workflow = WorkflowFactory(stages=["submitted"])
    response = post_workflow(admin_client, workflow, stages=stages)
    assert response.status_code == 200
    assert "stages" in response.context["adminform"].form.errors
    workflow.refresh_from_db()
    assert workflow.stages == ["submitted"]


def test_activating_a_workflow_again_in_admin_lifts_its_pause(admin_client):
    """As the API's workflow_update: a 410's disabling (or an automatic pause) ends when it is active again."""
    workflow = WorkflowFactory(
        stages=["submitted"],
        is_active=False,
        paused_at=timezone.now(),
        pause_reason="Disabled: the target answered 410 Gone.",
        failing_since=timezone.now(),
    )
    response = post_workflow(admin_client, workflow, is_active="on")
    assert response.status_code == 302, response.context["adminform"].form.errors
    workflow.refresh_from_db()
    assert workflow.is_active
    assert (workflow.paused_at, workflow.pause_reason, workflow.failing_since) == (None, "", None)


def test_a_workflow_keeps_its_kind_and_company_in_admin(admin_client):
    workflow = WorkflowFactory(stages=["submitted"])
    page = admin_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk]))
    assert {"kind", "company", "paused_at", "pause_reason"}.isdisjoint(page.context["adminform"].form.fields)
    response = post_workflow(admin_client, workflow, kind="email", company="")
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.kind == "webhook" and workflow.company is not None


def test_every_failing_field_of_a_workflow_is_a_form_error_at_once(admin_client):
    workflow = WorkflowFactory(stages=["submitted"])
    response = post_workflow(admin_client, workflow, config='{"url": 5}', stages='["bought"]')
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"config", "stages"} <= set(errors)
    assert any(message.startswith("config.url: ") for message in errors["config"])


def test_a_workflow_deleted_in_admin_stops_firing(admin_client):
    workflow = WorkflowFactory()
    response = admin_client.post(reverse("admin:workflows_workflow_delete", args=[workflow.pk]), {"post": "yes"})
    assert response.status_code == 302
    deleted = Workflow.all_objects.get(pk=workflow.pk)
    assert deleted.is_deleted and not deleted.is_active


def test_a_default_workflow_added_changed_and_removed_on_its_own_page_keeps_the_link_rules(
    admin_client, company, other_company
):
    action = ActionFactory(company=company)
    own, other = WorkflowFactory(company=company), WorkflowFactory(company=None)
    add = reverse("admin:workflows_actionworkflow_add")
    response = admin_client.post(add, {"action": action.pk, "workflow": WorkflowFactory(company=other_company).pk})
    assert response.status_code == 200
    assert "workflow" in response.context["adminform"].form.errors
    response = admin_client.post(add, {"action": action.pk, "workflow": own.pk, "position": 0})
    assert response.status_code == 302
    link = ActionWorkflow.objects.get(action=action)
    change = reverse("admin:workflows_actionworkflow_change", args=[link.pk])
    response = admin_client.post(change, {"action": action.pk, "workflow": other.pk, "position": 4})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.workflow, link.position) == (other, 4)
    response = admin_client.post(reverse("admin:workflows_actionworkflow_delete", args=[link.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not ActionWorkflow.objects.filter(action=action).exists()


def test_staffs_link_services_apply_the_link_rule_and_refuse_a_workflow_twice(company, other_company):
    action_company = ActionCompanyFactory(company=company)
    foreign = WorkflowFactory(company=other_company)
    with pytest.raises(InvalidInput) as refused:
        action_workflow_attach(action=ActionFactory(company=company), workflow=foreign)
    problem = "A company's own action runs only global workflows and that company's."
    assert refused.value.errors == {"workflow": [problem]}
    first, second = (
        action_company_workflow_attach(action_company=action_company, workflow=WorkflowFactory(company=company))
        for _ in range(2)
    )
    with pytest.raises(InvalidInput):
        action_company_workflow_update(link=second, workflow=first.workflow)
    with pytest.raises(InvalidInput):
        action_company_workflow_update(link=second, workflow=foreign)
    second.refresh_from_db()  # a refused update leaves the stored row as it was
    assert second.workflow != foreign
    assert action_company_workflow_update(link=second, position=7).position == 7
