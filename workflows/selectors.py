"""Read queries of the workflows domain."""
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from action_engine.models import ActionCompany
from crm.models import Visitor
from salesassist.core.config import ConfigCache, model_graph_copy

from .choices import DeliveryStatus, WorkflowEvent
from .conditions import conditions_hold
from .models import ActionCompanyWorkflow, ActionWorkflow, Delivery, Workflow

# Statuses in which a delivery still has automatic attempts ahead of it.
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
RECOVERABLE_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


# The workflows attached to a company action in fan-out order: the catalogue action's defaults (global
# or the company's own), then the company action's own. It runs on every engagement, and the ORM's
# UNION of the two took longer to compile than to run, so it is written out (portable SQL). Its answer is
# cached per process (below), so it runs again only after a configuration change.
_USABLE = "w.deleted_at IS NULL AND w.is_active AND w.paused_at IS NULL"
WORKFLOWS_OF_ACTION_SQL = f"""
    SELECT w.*, 0 AS link_group, link.position AS link_position
      FROM {Workflow._meta.db_table} w
      JOIN {ActionWorkflow._meta.db_table} link ON link.workflow_id = w.id
     WHERE {_USABLE} AND link.action_id = %(action)s AND (w.company_id IS NULL OR w.company_id = %(company)s)
    UNION ALL
    SELECT w.*, 1 AS link_group, link.position AS link_position
      FROM {Workflow._meta.db_table} w
      JOIN {ActionCompanyWorkflow._meta.db_table} link ON link.workflow_id = w.id
     WHERE {_USABLE} AND link.action_company_id = %(action_company)s AND w.company_id = %(company)s
    ORDER BY link_group, link_position, id
"""


def _engagement_workflows_load(key) -> tuple[Workflow, ...]:
    action_id, action_company_id, company_id = key
    attached = Workflow.objects.raw(
        WORKFLOWS_OF_ACTION_SQL, {"action": action_id, "action_company": action_company_id, "company": company_id}
    )
    seen: set[int] = set()
    subscribed = []
    for workflow in attached:
        if WorkflowEvent.ENGAGEMENT in workflow.events and workflow.pk not in seen:
            seen.add(workflow.pk)
            subscribed.append(workflow)
    return tuple(subscribed)


# A company action's usable workflows subscribed to engagements, in fan-out order, each once: read on every
# engagement, so cached per process until the configuration changes (salesassist/core/config.py; workflows and
# both link tables are configuration models). Shared between threads: never handed out.
_engagement_workflows = ConfigCache(_engagement_workflows_load)


def _matching(engagement) -> list[Workflow]:
    action_company = engagement.action_company
    attached = _engagement_workflows.get((action_company.action_id, action_company.pk, engagement.company_id))
    return [
        workflow
        for workflow in attached
        if (not workflow.stages or engagement.stage in workflow.stages)
        and conditions_hold(workflow.conditions, engagement=engagement)
    ]


def workflow_ids_for_engagement(*, engagement) -> list[int]:
    """The ids of the workflows `workflows_for_engagement` gives, in its order (what fan-out needs)."""
    return [workflow.pk for workflow in _matching(engagement)]


def workflows_for_engagement(*, engagement) -> list[Workflow]:
    """Active workflows of the engagement's company action that subscribe to engagement events and fire on its
    stage and conditions, each once (the caller's own copies, as cached: `failing_since` may be behind).

    The catalogue action's defaults come first, then the company action's own, each in its set order.
    Stages and conditions are matched in Python: an action has a handful of workflows, and SQLite has no JSON
    containment lookup.
    """
    return [model_graph_copy(workflow) for workflow in _matching(engagement)]


def _event_workflows_load(key) -> tuple[Workflow, ...]:
    company_id, event = key
    workflows = Workflow.objects.filter(company_id=company_id, is_active=True, paused_at__isnull=True)
    return tuple(workflow for workflow in workflows.order_by("created_at", "id") if event in workflow.events)


# A company's usable workflows subscribed to a non-engagement event type: read for every lead written (an
# import writes thousands in one request), so cached per process like the engagement ones. Never handed out.
_event_workflows = ConfigCache(_event_workflows_load)


def workflows_for_event(*, company_id: int, event: str, exclude_workflow_id: int | None = None) -> list[Workflow]:
    """The company's own active workflows that subscribe to a non-engagement event type, oldest first (the
    caller's own copies, as cached).

    Global workflows reach companies only through the actions they are linked to, so never through these events.
    Subscriptions are matched in Python: a company has a handful of workflows, and SQLite has no JSON containment.
    """
    return [
        model_graph_copy(workflow)
        for workflow in _event_workflows.get((company_id, event))
        if workflow.pk != exclude_workflow_id
    ]


def sendable_workflow_ids() -> QuerySet:
    """Ids of workflows whose deliveries may be attempted automatically (a subquery, never evaluated here)."""
    return Workflow.objects.filter(is_active=True, paused_at__isnull=True).values("id")


def deliveries_due_ids(*, now: datetime | None = None, requeue_after_seconds: float, limit: int) -> list[int]:
    """Deliveries to enqueue: due, not leased (or the lease ran out), and not queued recently, oldest due first."""
    now = now or timezone.now()
    requeue_cutoff = now - timedelta(seconds=requeue_after_seconds)
    return list(
        Delivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_cutoff))
        .filter(workflow_id__in=sendable_workflow_ids())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def deliveries_summary(*, now: datetime | None = None) -> tuple[dict[str, int], float | None]:
    """Deliveries per status (every status, 0 included), and how many seconds the oldest due one (one a
    worker would take now: due statuses, its time come, its workflow sendable) has waited past its time, or
    None when none is due. One aggregate statement, for a metrics scrape."""
    now = now or timezone.now()
    due = Q(status__in=DUE_STATUSES, next_attempt_at__lte=now, workflow_id__in=sendable_workflow_ids())
    rows = Delivery.objects.values("status").annotate(
        count=Count("id"), oldest_due=Min("next_attempt_at", filter=due)
    ).order_by()
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    oldest = None
    for row in rows:
        counts[row["status"]] = row["count"]
        if row["oldest_due"] is not None and (oldest is None or row["oldest_due"] < oldest):
            oldest = row["oldest_due"]
    return counts, None if oldest is None else (now - oldest).total_seconds()


def deliveries_recoverable_ids(*, workflow: Workflow, since: datetime) -> list[int]:
    """The failed and dead deliveries of a workflow created since a time, oldest first."""
    return list(
        Delivery.objects.filter(workflow=workflow, status__in=RECOVERABLE_STATUSES, created_at__gte=since)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )


def deliveries_for_sending(*, lease_token) -> list[Delivery]:
    """The deliveries a worker holds under one lease, with everything a payload needs.

    The few rows a batch shares (workflows, company actions with their action and system) are read once
    each rather than joined into every delivery's row: fewer columns to parse per delivery.
    """
    deliveries = list(
        Delivery.objects.filter(lease_token=lease_token)
        .select_related("engagement__lead", "engagement__message")
        .order_by("id")
    )
    if not deliveries:
        return deliveries
    workflows = Workflow.all_objects.in_bulk({delivery.workflow_id for delivery in deliveries})
    for delivery in deliveries:
        delivery.workflow = workflows[delivery.workflow_id]
    # Other events send their snapshot: only engagements are read.
    engagements = [delivery.engagement for delivery in deliveries if delivery.payload is None]
    if not engagements:
        return deliveries
    action_companies = ActionCompany.all_objects.select_related("action__system").in_bulk(
        {engagement.action_company_id for engagement in engagements}
    )
    visitor_ids = {engagement.visitor_id for engagement in engagements if engagement.visitor_id}
    visitors = Visitor.objects.only("id", "uuid", "company_id").in_bulk(visitor_ids) if visitor_ids else {}
    owner_ids = {engagement.lead.owner_id for engagement in engagements if engagement.lead.owner_id}
    owners = get_user_model().objects.in_bulk(owner_ids) if owner_ids else {}
    for engagement in engagements:
        engagement.action_company = action_companies[engagement.action_company_id]
        engagement.visitor = visitors.get(engagement.visitor_id) if engagement.visitor_id else None
        engagement.lead.owner = owners.get(engagement.lead.owner_id) if engagement.lead.owner_id else None
    return deliveries


def delivery_list(*, company) -> QuerySet:
    """A company's deliveries for the API, newest first, with what the list shows."""
    return Delivery.objects.filter(company=company).select_related("workflow", "engagement", "lead")
