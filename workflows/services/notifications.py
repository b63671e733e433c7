"""Pausing a workflow whose every attempt has failed for too long, and telling its owners."""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.template.loader import render_to_string

from ..models import Workflow

logger = logging.getLogger(__name__)


def workflows_pause_failing(*, workflow_ids: set[int], now: datetime) -> None:
    """Pause the workflows whose every attempt has failed for longer than WORKFLOW_PAUSE_AFTER_HOURS."""
    cutoff = now - timedelta(hours=settings.WORKFLOW_PAUSE_AFTER_HOURS)
    for workflow in Workflow.objects.filter(id__in=workflow_ids, paused_at__isnull=True, failing_since__lte=cutoff):
        reason = f"Paused: every delivery attempt has failed since {workflow.failing_since:%Y-%m-%d %H:%M} UTC."
        # Conditional, so two workers that both notice pause (and email) only once.
        if Workflow.objects.filter(pk=workflow.pk, paused_at__isnull=True).update(
            paused_at=now, pause_reason=reason, updated_at=now
        ):
            workflow.paused_at, workflow.pause_reason = now, reason
            workflow_paused_notify(workflow=workflow)


def workflow_paused_notify(*, workflow: Workflow) -> int:
    """Email the company's staff (the site admins for a global workflow) that the workflow was paused."""
    subject = f"SalesAssist: workflow “{workflow.name}” paused"
    body = render_to_string("workflows/workflow_paused_email.txt", {"workflow": workflow})
    try:
        if workflow.company_id is None:
            mail_admins(subject, body, fail_silently=False)
            return len(settings.ADMINS)
        recipients = sorted(
            {
                email
                for email in workflow.company.memberships.filter(user__is_active=True).values_list(
                    "user__email", flat=True
                )
                if email
            }
        )
        if recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        return len(recipients)
    except Exception:
        logger.exception("Could not email that workflow %s was paused", workflow.uuid)
        return 0
