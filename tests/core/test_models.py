"""Soft delete, for every model that has it: deleted rows leave `objects` and stay in `all_objects`."""
import pytest

from salesassist.core.models import SoftDeleteModel
from tests.action_engine.factories import ActionCompanyFactory, ActionFactory, FormFactory
from tests.crm.factories import LeadFactory
from tests.products.factories import ContentFactory, ProductFactory
from tests.workflows.factories import WorkflowFactory

pytestmark = pytest.mark.django_db

SOFT_DELETE_FACTORIES = [
    LeadFactory,
    ActionFactory,
    ActionCompanyFactory,
    WorkflowFactory,
    ProductFactory,
    ContentFactory,
    FormFactory,
]


def _model(factory):
    return factory._meta.model


def test_the_list_covers_every_soft_delete_model():
    from django.apps import apps

    soft = {m for m in apps.get_models() if issubclass(m, SoftDeleteModel)}
    assert soft == {_model(factory) for factory in SOFT_DELETE_FACTORIES}


@pytest.mark.parametrize("factory", SOFT_DELETE_FACTORIES, ids=lambda f: _model(f).__name__)
def test_deleting_a_row_hides_it_but_keeps_it(factory):
    model = _model(factory)
    kept, deleted = factory(), factory()
    deleted.delete()
    assert deleted.is_deleted
    assert list(model.objects.filter(pk__in=[kept.pk, deleted.pk])) == [kept]
    assert set(model.all_objects.filter(pk__in=[kept.pk, deleted.pk])) == {kept, deleted}
    with pytest.raises(model.DoesNotExist):
        model.objects.get(pk=deleted.pk)
    assert model.all_objects.get(pk=deleted.pk).deleted_at is not None


@pytest.mark.parametrize("factory", SOFT_DELETE_FACTORIES, ids=lambda f: _model(f).__name__)
def test_deleting_through_a_queryset_is_soft_too(factory):
    model = _model(factory)
    kept, first, second = factory(), factory(), factory()
    model.objects.filter(pk__in=[first.pk, second.pk]).delete()
    assert list(model.objects.filter(pk__in=[kept.pk, first.pk, second.pk])) == [kept]
    assert model.all_objects.filter(pk__in=[first.pk, second.pk], deleted_at__isnull=False).count() == 2


@pytest.mark.parametrize("factory", SOFT_DELETE_FACTORIES, ids=lambda f: _model(f).__name__)
def test_hard_delete_removes_the_row(factory):
    model = _model(factory)
    row = factory()
    row.hard_delete()
    assert not model.all_objects.filter(pk=row.pk).exists()
