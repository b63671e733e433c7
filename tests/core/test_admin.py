"""Every model registered in the admin: its changelist, add and change pages render with data present."""
import datetime
import itertools

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core import checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Failure, OrmQ, Schedule, Success
from django_q.signing import SignedPackage

from action_engine.choices import ModuleKind
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Engagement,
    Form,
    LeadActionState,
    Message,
    ReceiverCall,
)
from crm.models import (
    ApiKey,
    Company,
    CompanyMembership,
    Lead,
    LeadErasure,
    LeadReceiver,
    LeadReceiverAttempt,
    Visitor,
)
from products.models import Content, Product, Variant
from salesassist.core.models import WorkerHeartbeat
from tests.action_engine import factories as ae
from tests.crm import factories as crm
from tests.products import factories as products
from tests.workflows import factories as wf
from workflows.models import ActionCompanyWorkflow, ActionWorkflow, Delivery, DeliveryAttempt, Workflow

pytestmark = pytest.mark.django_db


_serial = itertools.count(1)


def _login_row(model, **fields):
    """A row django-axes writes on a login (attempt, failure or success)."""
    return model.objects.create(
        username=f"user-{next(_serial)}", ip_address="203.0.113.9", user_agent="pytest", path_info="/admin/login/",
        http_accept="text/html", **fields
    )


def _task(model, success: bool):
    now = timezone.now()
    return model.objects.create(
        id=f"{next(_serial):032d}",
        name="admin-test",
        func="math.floor",
        args=(1.5,),
        started=now - datetime.timedelta(seconds=1),
        stopped=now,
        success=success,
        result=1,
    )


# One way to make a row of each registered model. A model registered without an entry here fails
# test_every_registered_model_has_a_factory, so new admin pages are always covered.
ROW_MAKERS = {
    Company: crm.CompanyFactory,
    CompanyMembership: crm.CompanyMembershipFactory,
    ApiKey: crm.ApiKeyFactory,
    Lead: crm.LeadFactory,
    Visitor: crm.VisitorFactory,
    LeadReceiver: crm.LeadReceiverFactory,
    LeadReceiverAttempt: lambda: crm.LeadReceiverAttemptFactory(lead=crm.LeadFactory()),
    Product: products.ProductFactory,
    Variant: products.VariantFactory,
    Content: products.ContentFactory,
    ActionType: lambda: ActionType.objects.get(slug="form"),
    ActionSystem: lambda: ActionSystem.objects.get(slug="forms"),
    ActionDataType: lambda: ActionDataType.objects.get(slug="content"),
    Action: ae.ActionFactory,
    ActionWorkflow: wf.ActionWorkflowFactory,
    ActionCompany: ae.ActionCompanyFactory,
    ActionCompanyReceiver: lambda: ae.ActionCompanyFactory().receivers.get(),
    ActionCompanyWorkflow: wf.ActionCompanyWorkflowFactory,
    ActionCompanySystemModule: lambda: ae.ModuleFactory(kind=ModuleKind.PRODUCT),
    ReceiverCall: lambda: ae.ReceiverCallFactory(engagement=ae.EngagementFactory()),
    Form: ae.FormFactory,
    Engagement: ae.EngagementFactory,
    LeadActionState: ae.LeadActionStateFactory,
    LeadErasure: crm.LeadErasureFactory,
    Message: lambda: ae.EngagementFactory().message,
    Workflow: wf.WorkflowFactory,
    Delivery: wf.DeliveryFactory,
    DeliveryAttempt: wf.DeliveryAttemptFactory,
    WorkerHeartbeat: lambda: WorkerHeartbeat.objects.create(name=f"worker-{next(_serial)}", beat_at=timezone.now()),
    Group: lambda: Group.objects.create(name=f"Sales {next(_serial)}"),
    AccessAttempt: lambda: _login_row(AccessAttempt, get_data="", post_data="username=x", failures_since_start=3),
    AccessFailureLog: lambda: _login_row(AccessFailureLog, locked_out=False),
    AccessLog: lambda: _login_row(AccessLog),
    Schedule: lambda: Schedule.objects.create(name="sweep", func="math.floor", schedule_type=Schedule.MINUTES),
    Success: lambda: _task(Success, success=True),
    Failure: lambda: _task(Failure, success=False),
    OrmQ: lambda: OrmQ.objects.create(
        key="salesassist",
        payload=SignedPackage.dumps(
            {"id": f"{next(_serial):032d}", "name": "queued", "func": "math.floor", "args": (1.5,)}
        ),
    ),
}

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _make_row(model, superuser):
    if model._meta.label == "auth.User":
        return superuser
    return ROW_MAKERS[model]()


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_has_a_factory():
    missing = [m._meta.label for m in REGISTERED if m not in ROW_MAKERS and m._meta.label != "auth.User"]
    assert not missing, f"add a row maker to ROW_MAKERS for: {missing}"


def test_admin_system_checks_pass():
    errors = [error for error in checks.run_checks(tags=[checks.Tags.admin]) if error.is_serious()]
    assert errors == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_renders_with_data_and_search(admin_client, superuser, model):
    row = _make_row(model, superuser)
    response = admin_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    if admin.site._registry[model].search_fields:
        # A word and a uuid: exact uuid lookups must not break on text, nor text lookups on uuids.
        for term in ("acme", str(getattr(row, "uuid", "0d7c2f2e-2f9e-4c43-9a57-6d2f0b1f3a11"))):
            assert admin_client.get(_url(model, "changelist"), {"q": term}).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_filter_choice_renders(admin_client, superuser, model):
    _make_row(model, superuser)
    changelist = admin_client.get(_url(model, "changelist")).context["cl"]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            response = admin_client.get(_url(model, "changelist") + choice["query_string"])
            assert response.status_code == 200, (spec.title, choice["display"])


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_change_page_renders(admin_client, superuser, model):
    row = _make_row(model, superuser)
    response = admin_client.get(_url(model, "change", row.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_add_page_renders_where_adding_is_allowed(admin_client, superuser, rf, model):
    _make_row(model, superuser)
    request = rf.get("/")
    request.user = superuser
    response = admin_client.get(_url(model, "add"))
    if admin.site._registry[model].has_add_permission(request):
        assert response.status_code == 200
    else:
        assert response.status_code == 403


SOFT_DELETE_MAKERS = {
    Lead: crm.LeadFactory,
    Action: ae.ActionFactory,
    ActionCompany: ae.ActionCompanyFactory,
    Workflow: wf.WorkflowFactory,
    Product: products.ProductFactory,
    Content: products.ContentFactory,
    Form: ae.FormFactory,
}


@pytest.mark.parametrize("model", list(SOFT_DELETE_MAKERS), ids=lambda model: model._meta.label)
def test_admin_bulk_delete_soft_deletes_and_hides_the_row(admin_client, model):
    kept, deleted = SOFT_DELETE_MAKERS[model](), SOFT_DELETE_MAKERS[model]()
    changelist = _url(model, "changelist")
    confirm = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [deleted.pk]})
    assert confirm.status_code == 200  # the confirmation page, not blocked by protected history
    assert not confirm.context["protected"]
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [deleted.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert model.all_objects.get(pk=deleted.pk).deleted_at is not None
    assert model.all_objects.get(pk=kept.pk).deleted_at is None
    listed = admin_client.get(changelist).context["cl"].result_list
    assert deleted.pk not in {row.pk for row in listed}
    assert kept.pk in {row.pk for row in listed}


def test_admin_delete_of_a_lead_with_engagements_soft_deletes_it(admin_client):
    engagement = ae.EngagementFactory()
    response = admin_client.post(_url(Lead, "delete", engagement.lead.pk), {"post": "yes"})
    assert response.status_code == 302
    assert Lead.all_objects.get(pk=engagement.lead.pk).is_deleted
    assert Engagement.objects.filter(pk=engagement.pk).exists()


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_queries_do_not_grow_with_rows(admin_client, superuser, model):
    """No N+1 in list columns: listing four rows costs what listing one does."""
    if model in (ActionType, ActionSystem, ActionDataType) or model._meta.label == "auth.User":
        pytest.skip("the maker returns one seeded row")
    _make_row(model, superuser)
    url = _url(model, "changelist")
    admin_client.get(url)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as one_row:
        admin_client.get(url)
    for _ in range(3):
        _make_row(model, superuser)
    with CaptureQueriesContext(connection) as four_rows:
        response = admin_client.get(url)
    assert response.context["cl"].result_count >= 4
    assert len(four_rows) == len(one_row), "\n".join(q["sql"][:200] for q in four_rows.captured_queries)


def _autocomplete_fields():
    """(model, field name) of every autocomplete widget in the admin, inlines included."""
    for model, model_admin in admin.site._registry.items():
        owners = [(model, model_admin)] + [(inline.model, inline) for inline in model_admin.inlines]
        for owner_model, owner in owners:
            for field_name in owner.autocomplete_fields:
                yield owner_model, field_name


@pytest.mark.parametrize(
    ("model", "field_name"),
    sorted(set(_autocomplete_fields()), key=lambda pair: (pair[0]._meta.label, pair[1])),
    ids=lambda value: value._meta.label if hasattr(value, "_meta") else value,
)
def test_every_autocomplete_answers(admin_client, superuser, model, field_name):
    related = model._meta.get_field(field_name).related_model
    target = superuser if related._meta.label == "auth.User" else ROW_MAKERS[related]()
    query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name}
    for term in ("", str(target.pk), str(getattr(target, "uuid", "x"))):
        response = admin_client.get(reverse("admin:autocomplete"), {**query, "term": term})
        assert response.status_code == 200, (term, response.content[:300])
    listed = admin_client.get(reverse("admin:autocomplete"), query).json()["results"]
    assert str(target.pk) in {row["id"] for row in listed}


@pytest.mark.parametrize("model", list(SOFT_DELETE_MAKERS), ids=lambda model: model._meta.label)
def test_deleted_rows_are_listed_on_demand_and_can_be_restored(admin_client, model):
    live, deleted = SOFT_DELETE_MAKERS[model](), SOFT_DELETE_MAKERS[model]()
    deleted.delete()
    changelist = _url(model, "changelist")
    default = admin_client.get(changelist)
    assert "restore_selected" not in dict(default.context["action_form"].fields["action"].choices)
    page = admin_client.get(changelist, {"deleted": "yes"})
    assert [row.pk for row in page.context["cl"].result_list] == [deleted.pk]
    response = admin_client.post(
        changelist + "?deleted=yes", {"action": "restore_selected", "_selected_action": [deleted.pk]}
    )
    assert response.status_code == 302
    assert model.objects.filter(pk__in=[live.pk, deleted.pk]).count() == 2


def test_a_row_whose_slug_was_taken_meanwhile_stays_deleted(admin_client):
    old = ae.ActionFactory(slug="contact-form")
    old.delete()
    ae.ActionFactory(slug="contact-form")
    response = admin_client.post(
        _url(Action, "changelist") + "?deleted=yes",
        {"action": "restore_selected", "_selected_action": [old.pk]},
        follow=True,
    )
    assert any("Not restored" in str(message) for message in response.context["messages"])
    assert Action.all_objects.get(pk=old.pk).is_deleted


def test_deleted_rows_are_not_offered_by_autocomplete_nor_editable(admin_client):
    deleted = products.ProductFactory()
    deleted.delete()
    query = {"app_label": "action_engine", "model_name": "actioncompanysystemmodule", "field_name": "product"}
    listed = admin_client.get(reverse("admin:autocomplete"), query).json()["results"]
    assert str(deleted.pk) not in {row["id"] for row in listed}
    assert admin_client.get(_url(Product, "change", deleted.pk)).status_code == 302  # "doesn't exist"
