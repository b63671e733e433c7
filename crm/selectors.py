"""Read queries of the CRM domain."""
from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from action_engine.models import Engagement

from .models import Lead


def feed_for_lead(
    *,
    lead: Lead,
    action: UUID | None = None,
    stage: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Engagement]:
    """Every engagement of the lead, newest first, with what a feed entry shows joined in.

    One query per page: the company action, its catalogue action's type and system, the visitor and the
    message come in the same SELECT, and the (company, lead, -created_at) index serves the filter and
    the order, so a cursor page costs the same however long the feed is. `since` is inclusive, `until`
    exclusive.
    """
    queryset = Engagement.objects.filter(company_id=lead.company_id, lead_id=lead.pk).select_related(
        "action_company__action__type",
        "action_company__action__system",
        "visitor",
        "message",
    )
    if action is not None:
        queryset = queryset.filter(action_company__uuid=action)
    if stage:
        queryset = queryset.filter(stage=stage)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("-created_at", "-id")
