"""Fixtures of the workflows tests: a real HTTP sink, in-process task runs, and engagements that fan out."""
import pytest
from django.db import transaction
from django_q.conf import Conf

from action_engine.choices import Stage
from tests.action_engine.factories import ActionCompanyFactory, EngagementFactory
from tests.workflows.factories import ActionCompanyWorkflowFactory, WorkflowFactory
from tests.workflows.sink import Sink
from workflows.services import engagement_fanout


@pytest.fixture
def sink():
    server = Sink()
    yield server
    server.close()


@pytest.fixture
def q_sync(monkeypatch):
    """django-q2's documented sync mode: async_task runs the task in this process, at once."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def fast_retries(settings):
    """A short retry schedule: three automatic attempts, each due at once."""
    settings.WORKFLOW_RETRY_SCHEDULE = [0, 0, 0]
    return settings.WORKFLOW_RETRY_SCHEDULE


@pytest.fixture
def action_company(company):
    return ActionCompanyFactory(company=company)


def attach_webhook(action_company, url: str, **fields):
    """A company webhook workflow on the company action."""
    workflow = WorkflowFactory(company=action_company.company, config={"url": url, **fields.pop("config", {})}, **fields)
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    return workflow


def record_engagement(action_company, *, stage=Stage.SUBMITTED, body=None, lead=None):
    """Record an engagement and fan it out in one transaction, as the public flow does."""
    extra = {"lead": lead} if lead is not None else {}
    with transaction.atomic():
        engagement = EngagementFactory(action_company=action_company, stage=stage, **extra)
        if body is not None:
            engagement.message.body = body
            engagement.message.save()
        engagement_fanout(engagement=engagement)
    return engagement
