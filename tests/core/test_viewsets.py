"""The write-through-services viewset base: each write calls the service the viewset names, with the row
and the caller's company where it says so, and never falls back to a plain model save."""
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, get_resolver

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


def _api_views(urlconf: str) -> set[type]:
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif hasattr(pattern.callback, "cls"):  # a DRF view or viewset
                yield pattern.callback.cls

    return set(walk(get_resolver(urlconf).url_patterns))


@pytest.mark.parametrize("host", ["crm_api", "products_api", "action_engine_api"])
def test_every_viewset_writes_through_the_one_base(host):
    """No API view saves a row itself: each write it offers is ServiceWritesMixin's, or its own action that
    calls a service (for an answer other than the row's serializer)."""
    views = _api_views(f"salesassist.urls.{host}")
    assert views
    for viewset in views:
        for method in ("perform_create", "perform_update", "perform_destroy"):
            owner = next((klass for klass in viewset.__mro__ if method in vars(klass)), None)
            assert owner in (None, ServiceWritesMixin), f"{viewset.__name__}.{method} is {owner.__qualname__}'s"
