import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

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
from crm.services import api_key_create, lead_normalize


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct-horse-battery")


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class CompanyMembershipFactory(DjangoModelFactory):
    class Meta:
        model = CompanyMembership

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)


class ApiKeyFactory(DjangoModelFactory):
    """Creates a key through the service; the plain key is on `.token` of the returned row."""

    class Meta:
        model = ApiKey

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        api_key, token = api_key_create(**kwargs)
        api_key.token = token
        return api_key


class LeadFactory(DjangoModelFactory):
    """Saves the row with the dedupe keys every lead service fills, and no other check (so the database's own
    constraints can be tested)."""

    class Meta:
        model = Lead

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    source = "test"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        lead = lead_normalize(lead=model_class(*args, **kwargs))
        lead.save()
        return lead


class VisitorFactory(DjangoModelFactory):
    class Meta:
        model = Visitor

    company = factory.SubFactory(CompanyFactory)
    lead = factory.SubFactory(LeadFactory, company=factory.SelfAttribute("..company"))
    user_agent = "pytest"


class LeadReceiverFactory(DjangoModelFactory):
    class Meta:
        model = LeadReceiver

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Lead receiver {n}")
    template = factory.LazyFunction(lambda: {"fields": {"email": "contact.email", "first_name": "contact.name"}})


class LeadReceiverAttemptFactory(DjangoModelFactory):
    class Meta:
        model = LeadReceiverAttempt

    receiver = factory.SubFactory(LeadReceiverFactory)
    company = factory.SelfAttribute("receiver.company")
    body = '{"contact": {"email": "a@example.com"}}'


class LeadErasureFactory(DjangoModelFactory):
    """The audit row of an erased lead (the row lead_erase writes; the lead itself is left as it is)."""

    class Meta:
        model = LeadErasure

    lead = factory.SubFactory(LeadFactory)
    company = factory.SelfAttribute("lead.company")
    lead_uuid = factory.SelfAttribute("lead.uuid")
    erased_at = factory.LazyFunction(timezone.now)
    erased_counts = factory.LazyFunction(lambda: {"crm.Lead": 1})
