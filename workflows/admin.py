"""Admin of workflows, the actions they run on, their deliveries and every delivery attempt."""
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from action_engine.admin import (
    ActionAdmin,
    ActionCompanyAdmin,
    EngagementAdmin,
    LinkRowForm,
    LinkRowsFormSet,
)
from action_engine.models import Action, ActionCompany, Engagement
from crm.admin_tenancy import (
    BaseModelAdmin,
    HistoryModelAdmin,
    ReadOnlyTabularInline,
    ScopedTabularInline,
    SoftDeleteModelAdmin,
)
from salesassist.core.admin import (
    COMPANY_FILTER,
    RecentRowsFormSet,
    ScopeFilter,
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    cleaned_fields,
    pretty_json,
)

from .models import ActionCompanyWorkflow, ActionWorkflow, Delivery, DeliveryAttempt, Workflow
from .services import (
    LINK_FIELDS,
    WORKFLOW_FIELDS,
    action_company_workflow_attach,
    action_company_workflow_detach,
    action_company_workflow_update,
    action_workflow_attach,
    action_workflow_detach,
    action_workflow_update,
    deliveries_enqueue,
    workflow_check,
    workflow_create,
    workflow_delete,
    workflow_link_problem,
    workflow_recover,
    workflow_resume,
    workflow_update,
)

# How far back "recover" reaches in admin (further when the workflow has been failing longer).
ADMIN_RECOVER_DEFAULT = timedelta(days=7)


class WorkflowAdminForm(ServiceRulesForm):
    """The API's checks (services.workflow_check): the kind's config (SSRF of a webhook URL included), the
    events, the conditions and the stages."""

    def check_rules(self, cleaned_data):
        workflow = self.instance if self.instance.pk else None
        if workflow is None and "kind" not in cleaned_data:
            return  # an unknown kind is the kind field's own error; its config cannot be checked
        workflow_check(workflow=workflow, **cleaned_fields(self, ("kind", "config", "events", "stages", "conditions")))


class RecentDeliveryInline(ReadOnlyTabularInline):
    """The workflow's most recent deliveries; the link under the form lists them all."""

    model = Delivery
    formset = RecentRowsFormSet
    fields = ("created_at", "event_type", "engagement", "status", "attempts", "last_status_code", "next_attempt_at")
    readonly_fields = fields
    verbose_name_plural = f"recent deliveries (newest {RecentRowsFormSet.recent_limit})"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("engagement__lead", "engagement__action_company")


@admin.register(Workflow)
class WorkflowAdmin(ServiceWritesAdminMixin, SoftDeleteModelAdmin):
    """A delivery to a third party. Its signing secrets are never shown here."""

    form = WorkflowAdminForm
    list_display = ("name", "company", "kind", "is_active", "events", "stages", "paused_at", "created_at")
    list_filter = ("kind", "is_active", ScopeFilter, COMPANY_FILTER, "created_at")
    search_fields = ("name", "=uuid")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    exclude = ("secret", "previous_secret")
    # A new webhook's signing secret is never shown here; staff read it through the API's rotate-secret,
    # which shows a new one once.
    create_service = workflow_create
    update_service = workflow_update
    delete_service = workflow_delete
    instance_kwarg = "workflow"
    service_fields = WORKFLOW_FIELDS
    fixed_fields = ("company", "kind")
    # Set by the deliveries: a pause is lifted by activating the workflow again (or by "resume").
    readonly_fields = (
        "has_secret", "previous_secret_expires_at", "paused_at", "pause_reason", "failing_since", "all_deliveries"
    )
    inlines = (RecentDeliveryInline,)
    actions = ("recover_deliveries", "resume_workflows")

    @admin.display(boolean=True, description="signing secret set")
    def has_secret(self, obj):
        return bool(obj.secret)

    @admin.action(
        description="Attempt failed and dead deliveries again (last 7 days, or since failing began if earlier)", permissions=["change"]
    )
    def recover_deliveries(self, request, queryset):
        queued = 0
        for workflow in queryset:
            since = timezone.now() - ADMIN_RECOVER_DEFAULT
            if workflow.failing_since:
                # The delivery that began the failing streak was created a little before it.
                since = min(since, workflow.failing_since - ADMIN_RECOVER_DEFAULT)
            queued += workflow_recover(workflow=workflow, since=since)
        self.message_user(request, f"Queued {queued} deliveries for one manual attempt each.", messages.SUCCESS)

    @admin.action(description="Resume (lift a pause or a 410's disabling)", permissions=["change"])
    def resume_workflows(self, request, queryset):
        resumed = [workflow_resume(workflow=workflow) for workflow in queryset]
        self.message_user(request, f"Resumed {len(resumed)} workflow(s).", messages.SUCCESS)

    @admin.display(description="deliveries")
    def all_deliveries(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:workflows_delivery_changelist") + f"?workflow__id__exact={obj.pk}"
        return format_html('<a href="{}">All deliveries of this workflow</a>', url)


class DeliveryAttemptInline(ReadOnlyTabularInline):
    model = DeliveryAttempt
    fields = ("number", "created_at", "is_manual", "response_status", "succeeded", "duration_ms", "error_class")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(HistoryModelAdmin):
    """Workflow runs, one per workflow and event (never two per workflow and engagement), with every attempt.

    The fan-out and the workers write these rows; staff act on them through admin actions only.
    """

    list_display = (
        "created_at", "workflow", "event_type", "engagement", "status", "attempts", "last_status_code",
        "next_attempt_at",
    )
    list_filter = (
        "status", "event_type", ("workflow", admin.RelatedOnlyFieldListFilter), COMPANY_FILTER, "created_at"
    )
    search_fields = ("=uuid", "=engagement__uuid", "=lead__uuid", "workflow__name", "last_error")
    # An engagement reads as its lead and company action.
    list_select_related = ("workflow", "company", "engagement__lead", "engagement__action_company")
    readonly_fields = ("payload_display",)

    @admin.display(description="payload (the body sent, for events other than engagements)")
    def payload_display(self, obj):
        return pretty_json(obj.payload) if obj.payload is not None else "—"
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)
    actions = ("replay_deliveries",)

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("workflows.change_delivery")

    @admin.action(description="Replay selected deliveries (one manual attempt each)", permissions=["replay"])
    def replay_deliveries(self, request, queryset):
        queued = deliveries_enqueue(delivery_ids=list(queryset.values_list("id", flat=True)), manual=True)
        self.message_user(request, f"Queued {queued} deliveries for one manual attempt each.", messages.SUCCESS)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(HistoryModelAdmin):
    """Each try of a delivery: what was sent and what came back."""

    list_display = ("created_at", "delivery", "number", "is_manual", "response_status", "succeeded", "duration_ms")
    list_filter = ("succeeded", "is_manual", "response_status", "created_at")
    search_fields = ("=uuid", "=delivery__uuid", "request_url", "error_message")
    list_select_related = ("delivery__workflow",)
    tenant_paths = ("delivery__company",)
    date_hierarchy = "created_at"
    exclude = ("request_headers", "response_headers")
    readonly_fields = ("request_headers_display", "response_headers_display")

    @admin.display(description="request headers")
    def request_headers_display(self, obj):
        return pretty_json(obj.request_headers)

    @admin.display(description="response headers")
    def response_headers_display(self, obj):
        return pretty_json(obj.response_headers)


# ---------------------------------------------------------------- workflows on actions
# The engine's admins of actions, company actions and engagements show what this app adds to them:
# each is re-registered here with the workflows' inlines, so the engine never imports workflows.


def workflow_link_errors(owner, cleaned_data: dict) -> dict[str, str]:
    """The link rule (workflows.services.links) for an admin row whose owner is a catalogue or a company action."""
    workflow = cleaned_data.get("workflow")
    if workflow is None or owner is None:
        return {}
    problem = workflow_link_problem(owner=owner, workflow=workflow)
    return {"workflow": problem} if problem else {}


def workflow_link_key(cleaned_data: dict):
    return cleaned_data.get("workflow")


class LinkWrites(NamedTuple):
    """A link model's owner field and the services that write its rows."""

    owner_field: str
    attach: Callable
    update: Callable
    detach: Callable


LINK_WRITES = {
    ActionWorkflow: LinkWrites("action", action_workflow_attach, action_workflow_update, action_workflow_detach),
    ActionCompanyWorkflow: LinkWrites(
        "action_company", action_company_workflow_attach, action_company_workflow_update, action_company_workflow_detach
    ),
}


def workflow_link_attach(model, *, owner, cleaned_data: dict):
    """Attach the workflow an admin row names to `owner`, through the link model's service (as staff)."""
    writes = LINK_WRITES[model]
    return writes.attach(
        **{writes.owner_field: owner}, workflow=cleaned_data["workflow"], position=cleaned_data.get("position")
    )


class WorkflowLinkFormSet(ServiceWritesFormSetMixin, LinkRowsFormSet):
    """An action's workflows: new rows attached, changed ones updated, removed ones detached through the
    services."""

    row_errors = staticmethod(workflow_link_errors)
    row_key = staticmethod(workflow_link_key)

    def create_row(self, form):
        return workflow_link_attach(self.model, owner=self.instance, cleaned_data=form.cleaned_data)

    def update_row(self, form, row):
        return LINK_WRITES[self.model].update(link=row, **cleaned_fields(form, LINK_FIELDS))

    def delete_row(self, row):
        LINK_WRITES[self.model].detach(link=row)


class ActionWorkflowForm(LinkRowForm):
    parent_field = "action"
    row_errors = staticmethod(workflow_link_errors)


class ActionCompanyWorkflowForm(LinkRowForm):
    parent_field = "action_company"
    row_errors = staticmethod(workflow_link_errors)


class WorkflowLinkInline(ScopedTabularInline):
    """Workflows linked to an action, in the order they run."""

    formset = WorkflowLinkFormSet
    extra = 0
    autocomplete_fields = ("workflow",)
    fields = ("workflow", "position")


class ActionWorkflowInline(WorkflowLinkInline):
    """The action's default workflows: every company's instance runs them."""

    model = ActionWorkflow


class ActionCompanyWorkflowInline(WorkflowLinkInline):
    """The company's own workflows on this action, run besides the action's defaults."""

    model = ActionCompanyWorkflow


class WorkflowLinkAdmin(ServiceWritesAdminMixin, BaseModelAdmin):
    """A link row on its own page, written through its model's services (LINK_WRITES)."""

    instance_kwarg = "link"

    def create_row(self, request, form):
        owner = form.cleaned_data[LINK_WRITES[self.model].owner_field]
        return workflow_link_attach(self.model, owner=owner, cleaned_data=form.cleaned_data)


@admin.register(ActionWorkflow)
class ActionWorkflowAdmin(WorkflowLinkAdmin):
    """A default workflow of a catalogue action."""

    form = ActionWorkflowForm
    update_service = action_workflow_update
    delete_service = action_workflow_detach
    service_fields = ("action", *LINK_FIELDS)
    # A global action's links are global; one to another company's workflow is never listed.
    tenant_paths = ("action__company", "workflow__company")
    list_display = ("action", "workflow", "position", "created_at")
    list_filter = (("action__system", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("action__name", "workflow__name")
    autocomplete_fields = ("action", "workflow")
    list_select_related = ("action", "workflow")


@admin.register(ActionCompanyWorkflow)
class ActionCompanyWorkflowAdmin(WorkflowLinkAdmin):
    """A company's own workflow on one of its actions."""

    form = ActionCompanyWorkflowForm
    update_service = action_company_workflow_update
    delete_service = action_company_workflow_detach
    service_fields = ("action_company", *LINK_FIELDS)
    tenant_paths = ("action_company__company", "workflow__company")
    list_display = ("action_company", "workflow", "position", "created_at")
    list_filter = (("action_company__company", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("action_company__name", "workflow__name")
    autocomplete_fields = ("action_company", "workflow")
    list_select_related = ("action_company", "workflow")


class EngagementDeliveryInline(ReadOnlyTabularInline):
    """What the engagement's workflows did with it."""

    model = Delivery
    fields = ("workflow", "status", "attempts", "last_status_code", "next_attempt_at", "succeeded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workflow")


class ActionWithWorkflowsAdmin(ActionAdmin):
    inlines = (*ActionAdmin.inlines, ActionWorkflowInline)


class ActionCompanyWithWorkflowsAdmin(ActionCompanyAdmin):
    # Right after the receivers, where staff look for what the action does with a result.
    inlines = (*ActionCompanyAdmin.inlines[:1], ActionCompanyWorkflowInline, *ActionCompanyAdmin.inlines[1:])


class EngagementWithDeliveriesAdmin(EngagementAdmin):
    inlines = (*EngagementAdmin.inlines, EngagementDeliveryInline)


for _model, _admin_class in (
    (Action, ActionWithWorkflowsAdmin),
    (ActionCompany, ActionCompanyWithWorkflowsAdmin),
    (Engagement, EngagementWithDeliveriesAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
