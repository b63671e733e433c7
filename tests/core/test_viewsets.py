"""The write-through-services viewset base: each write calls the service the viewset names, with the row
and the caller's company where it says so, and never falls back to a plain model save."""
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from salesassist.core.viewsets import ServiceWritesMixin

calls = []


def thing_create(**kwargs):
    calls.append(("create", kwargs))
    return "created"


def thing_update(**kwargs):
    calls.append(("update", kwargs))
    return "updated"


class ThingViewSet(ServiceWritesMixin):
    create_service = thing_create
    update_service = thing_update
    instance_kwarg = "thing"
    company_kwarg_on = ("create", "update")
    company = "acme"


@pytest.fixture(autouse=True)
def _no_calls():
    calls.clear()


def test_each_write_calls_its_service_with_the_row_and_the_company():
    viewset = ThingViewSet()
    created = SimpleNamespace(instance=None, validated_data={"name": "A"})
    viewset.perform_create(created)
    updated = SimpleNamespace(instance="row", validated_data={"name": "B"})
    viewset.perform_update(updated)
    assert calls == [
        ("create", {"name": "A", "company": "acme"}),
        ("update", {"thing": "row", "name": "B", "company": "acme"}),
    ]
    assert (created.instance, updated.instance) == ("created", "updated")


def test_a_write_without_a_service_is_refused_not_saved():
    with pytest.raises(ImproperlyConfigured, match="destroy_service"):
        ThingViewSet().perform_destroy("row")
    assert calls == []
