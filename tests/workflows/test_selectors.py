"""Which workflows an engagement fans out to: the action's defaults, then the company action's own, each once."""
import pytest
from django.utils import timezone

from action_engine.choices import Stage
from tests.action_engine.factories import ActionCompanyFactory, EngagementFactory
from tests.workflows.factories import ActionCompanyWorkflowFactory, ActionWorkflowFactory, WorkflowFactory
from workflows.selectors import workflows_for_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def action_company(company):
    return ActionCompanyFactory(company=company)


def engagement_on(action_company, stage=Stage.SUBMITTED):
    return EngagementFactory(action_company=action_company, stage=stage)


def test_defaults_come_first_in_position_order_then_own_and_each_workflow_once(action_company, company):
    action = action_company.action
    global_second = WorkflowFactory(company=None, name="global second")
    company_default_first = WorkflowFactory(company=company, name="company default first")
    ActionWorkflowFactory(action=action, workflow=global_second, position=2)
    ActionWorkflowFactory(action=action, workflow=company_default_first, position=1)
    own = WorkflowFactory(company=company, name="own")
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=own, position=1)
    # Attached both as a default and as the company action's own: still delivered once.
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=company_default_first, position=0)

    assert workflows_for_engagement(engagement=engagement_on(action_company)) == [
        company_default_first,
        global_second,
        own,
    ]


def test_only_workflows_subscribed_to_the_stage_fire(action_company, company):
    on_submit = WorkflowFactory(company=company, stages=[Stage.SUBMITTED])
    on_every_stage = WorkflowFactory(company=company, stages=[])
    for workflow in (on_submit, on_every_stage):
        ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)

    assert workflows_for_engagement(engagement=engagement_on(action_company, Stage.OPENED)) == [on_every_stage]
    assert set(workflows_for_engagement(engagement=engagement_on(action_company, Stage.SUBMITTED))) == {
        on_submit,
        on_every_stage,
    }


def test_inactive_paused_and_deleted_workflows_do_not_fire(action_company, company):
    workflows = [
        WorkflowFactory(company=company, is_active=False),
        WorkflowFactory(company=company, paused_at=timezone.now()),
        WorkflowFactory(company=company),
    ]
    for workflow in workflows:
        ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    workflows[2].delete()

    assert workflows_for_engagement(engagement=engagement_on(action_company)) == []


def test_another_companys_default_on_a_shared_catalogue_action_never_fires(action_company, other_company):
    ActionWorkflowFactory(action=action_company.action, workflow=WorkflowFactory(company=other_company))

    assert workflows_for_engagement(engagement=engagement_on(action_company)) == []


def test_matching_is_one_query_then_cached_until_the_configuration_changes(
    action_company, company, django_assert_num_queries
):
    for position in range(3):
        ActionWorkflowFactory(action=action_company.action, workflow=WorkflowFactory(company=None), position=position)
        ActionCompanyWorkflowFactory(action_company=action_company, workflow=WorkflowFactory(company=company))
    engagement = engagement_on(action_company)

    # The configuration version, then the workflows.
    with django_assert_num_queries(2):
        assert len(workflows_for_engagement(engagement=engagement)) == 6
    with django_assert_num_queries(1):
        assert len(workflows_for_engagement(engagement=engagement)) == 6
    # A new link is a configuration change: the next engagement reads the workflows again.
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=WorkflowFactory(company=company))
    with django_assert_num_queries(2):
        assert len(workflows_for_engagement(engagement=engagement)) == 7
