import base64
import os

import factory
from factory.django import DjangoModelFactory

from tests.action_engine.factories import ActionCompanyFactory, ActionFactory, EngagementFactory
from tests.crm.factories import CompanyFactory
from workflows.choices import WorkflowKind
from workflows.models import ActionCompanyWorkflow, ActionWorkflow, Delivery, DeliveryAttempt, Workflow


class WorkflowFactory(DjangoModelFactory):
    class Meta:
        model = Workflow

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Workflow {n}")
    kind = WorkflowKind.WEBHOOK
    config = factory.LazyFunction(lambda: {"url": "http://127.0.0.1:9/hook"})
    stages = factory.LazyFunction(list)
    secret = factory.LazyFunction(lambda: "whsec_" + base64.b64encode(os.urandom(24)).decode())


class ActionWorkflowFactory(DjangoModelFactory):
    class Meta:
        model = ActionWorkflow

    action = factory.SubFactory(ActionFactory)
    workflow = factory.SubFactory(WorkflowFactory, company=None)


class ActionCompanyWorkflowFactory(DjangoModelFactory):
    class Meta:
        model = ActionCompanyWorkflow

    action_company = factory.SubFactory(ActionCompanyFactory)
    workflow = factory.SubFactory(WorkflowFactory, company=factory.SelfAttribute("..action_company.company"))


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    engagement = factory.SubFactory(EngagementFactory)
    company = factory.SelfAttribute("engagement.company")
    workflow = factory.SubFactory(WorkflowFactory, company=factory.SelfAttribute("..company"))


class DeliveryAttemptFactory(DjangoModelFactory):
    class Meta:
        model = DeliveryAttempt

    delivery = factory.SubFactory(DeliveryFactory)
    number = factory.Sequence(lambda n: n + 1)
    request_url = "http://127.0.0.1:9/hook"
    response_status = 500
    duration_ms = 12
