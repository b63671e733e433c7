from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from action_engine.choices import ModuleKind, Stage, SystemSlug
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
from action_engine.services import action_company_create
from action_engine.systems import system_spec
from tests.crm.factories import CompanyFactory, LeadFactory, VisitorFactory
from tests.products.factories import ContentFactory, ProductFactory

CONTACT_FORM_SCHEMA = {
    "type": "object",
    "required": ["email"],
    "properties": {
        "name": {"type": "string", "title": "Name", "maxLength": 100},
        "email": {"type": "string", "title": "Email", "format": "email"},
    },
}


class ActionTypeFactory(DjangoModelFactory):
    """The catalogue is seeded by a migration; factories reuse the seeded rows."""

    class Meta:
        model = ActionType
        django_get_or_create = ("slug",)

    slug = "form"
    name = factory.LazyAttribute(lambda o: o.slug.title())


class ActionSystemFactory(DjangoModelFactory):
    class Meta:
        model = ActionSystem
        django_get_or_create = ("slug",)

    slug = SystemSlug.FORMS
    name = factory.LazyAttribute(lambda o: o.slug.title())


class ActionDataTypeFactory(DjangoModelFactory):
    class Meta:
        model = ActionDataType
        django_get_or_create = ("slug",)

    slug = "content"
    name = factory.LazyAttribute(lambda o: o.slug.title())


class ActionFactory(DjangoModelFactory):
    """A global catalogue action (company=None) unless a company is given."""

    class Meta:
        model = Action

    company = None
    name = factory.Sequence(lambda n: f"Action {n}")
    slug = factory.Sequence(lambda n: f"action-{n}")
    type = factory.SubFactory(ActionTypeFactory)
    system = factory.SubFactory(ActionSystemFactory)


class FormFactory(DjangoModelFactory):
    class Meta:
        model = Form

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Form {n}")
    schema = factory.LazyFunction(lambda: dict(CONTACT_FORM_SCHEMA))


class ActionCompanyFactory(DjangoModelFactory):
    """Created through the service, so it has its receiver like every real company action."""

    class Meta:
        model = ActionCompany

    company = factory.SubFactory(CompanyFactory)
    action = factory.SubFactory(ActionFactory)
    name = factory.Sequence(lambda n: f"Company action {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return action_company_create(**kwargs)


class ActionCompanyReceiverFactory(DjangoModelFactory):
    class Meta:
        model = ActionCompanyReceiver

    action_company = factory.SubFactory(ActionCompanyFactory)
    company = factory.SelfAttribute("action_company.company")
    is_active = False


class ModuleFactory(DjangoModelFactory):
    """A form module by default; pass kind=ModuleKind.PRODUCT with product=..., etc."""

    class Meta:
        model = ActionCompanySystemModule

    action_company = factory.SubFactory(ActionCompanyFactory)
    kind = ModuleKind.FORM
    form = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == ModuleKind.FORM),
        factory.SubFactory(FormFactory, company=factory.SelfAttribute("..action_company.company")),
        None,
    )
    product = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == ModuleKind.PRODUCT),
        factory.SubFactory(ProductFactory, company=factory.SelfAttribute("..action_company.company")),
        None,
    )
    content = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == ModuleKind.CONTENT),
        factory.SubFactory(ContentFactory, company=factory.SelfAttribute("..action_company.company")),
        None,
    )


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    company = factory.SubFactory(CompanyFactory)
    body = factory.LazyFunction(lambda: {"data": {"email": "lead@example.com"}})


class EngagementFactory(DjangoModelFactory):
    class Meta:
        model = Engagement

    action_company = factory.SubFactory(ActionCompanyFactory)
    company = factory.SelfAttribute("action_company.company")
    lead = factory.SubFactory(LeadFactory, company=factory.SelfAttribute("..company"))
    visitor = factory.SubFactory(
        VisitorFactory, company=factory.SelfAttribute("..company"), lead=factory.SelfAttribute("..lead")
    )
    stage = Stage.OPENED
    previous_stage = Stage.SENT
    message = factory.SubFactory(MessageFactory, company=factory.SelfAttribute("..company"))


class ReceiverCallFactory(DjangoModelFactory):
    class Meta:
        model = ReceiverCall

    receiver = factory.LazyAttribute(lambda o: ActionCompanyFactory(company=o.company).receivers.get())
    company = factory.SubFactory(CompanyFactory)
    body = '{"lead": "unknown"}'


def _stage_reached_at(state, stage: Stage):
    """When the factory's lead reached `stage`: `step` before each later stage; None past its current one."""
    if stage not in state.spec.pipeline or state.spec.stage_rank(stage) > state.stage_rank:
        return None
    return state.at - (state.stage_rank - state.spec.stage_rank(stage)) * state.step


class LeadActionStateFactory(DjangoModelFactory):
    """Where a lead stands on a company action, as engagement_record leaves it.

    Give `stage` (default opened) and `at` (when it got there; default now): each earlier stage of the
    action's pipeline was reached `step` (an hour) before the next; stage_rank follows from the pipeline.
    A stage time given explicitly (opened_at=None: recorded without it) wins.
    """

    class Meta:
        model = LeadActionState
        exclude = ("spec",)

    class Params:
        at = factory.LazyFunction(timezone.now)
        step = timedelta(hours=1)

    action_company = factory.SubFactory(ActionCompanyFactory)
    company = factory.SelfAttribute("action_company.company")
    lead = factory.SubFactory(LeadFactory, company=factory.SelfAttribute("..company"))
    stage = Stage.OPENED
    spec = factory.LazyAttribute(lambda o: system_spec(o.action_company.action.system.slug))
    stage_rank = factory.LazyAttribute(lambda o: o.spec.stage_rank(o.stage))
    sent_at = factory.LazyAttribute(lambda o: _stage_reached_at(o, Stage.SENT))
    opened_at = factory.LazyAttribute(lambda o: _stage_reached_at(o, Stage.OPENED))
    submitted_at = factory.LazyAttribute(lambda o: _stage_reached_at(o, Stage.SUBMITTED))
    downloaded_at = factory.LazyAttribute(lambda o: _stage_reached_at(o, Stage.DOWNLOADED))
    purchased_at = factory.LazyAttribute(lambda o: _stage_reached_at(o, Stage.PURCHASED))
    first_engaged_at = factory.LazyAttribute(lambda o: o.at - o.stage_rank * o.step)
    last_engaged_at = factory.SelfAttribute("at")
    engagement_count = factory.LazyAttribute(lambda o: o.stage_rank + 1)
