"""Action engine constraints hold in the database; company actions come with one active receiver;
the catalogue is seeded by migrate."""
import pytest
from django.db import IntegrityError, transaction

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import (
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
)
from action_engine.services import action_company_create, action_company_receiver_create
from action_engine.systems import system_spec
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    EngagementFactory,
    FormFactory,
    ModuleFactory,
)
from tests.products.factories import ContentFactory, ProductFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the seeded catalogue


def test_migrate_seeds_the_action_types_and_data_types():
    assert set(ActionType.objects.values_list("slug", flat=True)) == {"product", "document", "form", "commerce"}
    assert set(ActionDataType.objects.values_list("slug", flat=True)) == {"product", "content"}


def test_migrate_seeds_the_three_systems_with_their_pipelines():
    pipelines = {system.slug: list(system_spec(system.slug).pipeline) for system in ActionSystem.objects.all()}
    assert pipelines == {
        SystemSlug.FORMS: [Stage.SENT, Stage.OPENED, Stage.SUBMITTED],
        SystemSlug.CONTENT: [Stage.SENT, Stage.OPENED, Stage.DOWNLOADED],
        SystemSlug.COMMERCE: [Stage.SENT, Stage.OPENED, Stage.PURCHASED],
    }


# ---------------------------------------------------------------- action slugs


def test_global_action_slugs_are_unique():
    ActionFactory(slug="contact-form")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionFactory(slug="contact-form")


def test_company_action_slugs_are_unique_per_company(company, other_company):
    ActionFactory(company=company, slug="contact-form")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionFactory(company=company, slug="contact-form")
    # Another company, and the global catalogue, may use the same slug.
    ActionFactory(company=other_company, slug="contact-form")
    ActionFactory(company=None, slug="contact-form")


@pytest.mark.parametrize("scope", ["global", "company"])
def test_a_deleted_action_frees_its_slug(company, scope):
    owner = company if scope == "company" else None
    ActionFactory(company=owner, slug="contact-form").delete()
    assert ActionFactory(company=owner, slug="contact-form").slug == "contact-form"


# ---------------------------------------------------------------- receivers


def test_creating_a_company_action_creates_exactly_one_active_receiver(company):
    action_company = action_company_create(company=company, action=ActionFactory())
    receiver = ActionCompanyReceiver.objects.get(action_company=action_company)
    assert receiver.is_active
    assert receiver.company == company
    assert action_company.name == action_company.action.name


def test_rotating_the_receiver_deactivates_the_old_one():
    action_company = ActionCompanyFactory()
    old = action_company.receivers.get()
    new = action_company_receiver_create(action_company=action_company, default_stage=Stage.SUBMITTED)
    old.refresh_from_db()
    assert not old.is_active
    assert new.is_active and new.uuid != old.uuid
    assert list(action_company.receivers.filter(is_active=True)) == [new]
    assert action_company.receivers.count() == 2


def test_a_company_action_has_one_active_receiver_at_most():
    action_company = ActionCompanyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionCompanyReceiver.objects.create(
            company=action_company.company, action_company=action_company, is_active=True
        )
    # Inactive (rotated out) receivers may pile up.
    ActionCompanyReceiver.objects.create(company=action_company.company, action_company=action_company, is_active=False)
    ActionCompanyReceiver.objects.create(company=action_company.company, action_company=action_company, is_active=False)
    assert action_company.receivers.filter(is_active=True).count() == 1


# ---------------------------------------------------------------- modules


@pytest.mark.parametrize("kind", [ModuleKind.PRODUCT, ModuleKind.CONTENT, ModuleKind.FORM])
def test_a_module_is_unique_per_company_action(kind):
    module = ModuleFactory(kind=kind)
    target = {kind.value: module.target}
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionCompanySystemModule.objects.create(action_company=module.action_company, kind=kind, **target)
    # The same target on another company action is fine.
    other = ActionCompanyFactory(company=module.action_company.company)
    ActionCompanySystemModule.objects.create(action_company=other, kind=kind, **target)


def test_a_module_must_reference_exactly_what_its_kind_says():
    action_company = ActionCompanyFactory()
    company = action_company.company
    product, content = ProductFactory(company=company), ContentFactory(company=company)
    form = FormFactory(company=company)
    wrong = [
        {"kind": ModuleKind.PRODUCT},  # nothing referenced
        {"kind": ModuleKind.PRODUCT, "form": form},  # the wrong reference
        {"kind": ModuleKind.CONTENT, "content": content, "product": product},  # one too many
        {"kind": ModuleKind.FORM, "product": product},
    ]
    for fields in wrong:
        with pytest.raises(IntegrityError), transaction.atomic():
            ActionCompanySystemModule.objects.create(action_company=action_company, **fields)
    assert not action_company.modules.exists()
    ActionCompanySystemModule.objects.create(action_company=action_company, kind=ModuleKind.CONTENT, content=content)


# ---------------------------------------------------------------- engagements


def test_an_idempotency_key_records_once_per_company():
    engagement = EngagementFactory(idempotency_key="submit-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory(action_company=engagement.action_company, idempotency_key="submit-1", message=None)
    assert EngagementFactory(idempotency_key="submit-1").company != engagement.company
    EngagementFactory(action_company=engagement.action_company, idempotency_key="")
    EngagementFactory(action_company=engagement.action_company, idempotency_key="")
