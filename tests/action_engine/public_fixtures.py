"""Fixtures of the public-flow tests: one company action per system, a lead, an anonymous client, and
the link's token every public call carries (companies require it unless they turn it off)."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from action_engine.choices import ModuleKind, SystemSlug
from action_engine.services import action_link_sign
from conftest import host_client
from crm.models import Visitor
from salesassist.hosts import ACTION_ENGINE_API
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    ActionTypeFactory,
    ModuleFactory,
)
from tests.crm.factories import LeadFactory
from tests.products.factories import ContentFactory, ProductFactory, VariantFactory

ENGAGEMENTS_URL = "/v1/public/engagements"


@pytest.fixture
def public_api(db):
    """The action engine host without an API key, as an action page calls it."""
    return host_client(ACTION_ENGINE_API)


@pytest.fixture
def lead(company):
    return LeadFactory(company=company, first_name="Ada", last_name="Lovelace", email="ada@example.com")


def _action(company, system: str, type_slug: str):
    action = ActionFactory(system=ActionSystemFactory(slug=system), type=ActionTypeFactory(slug=type_slug))
    return ActionCompanyFactory(company=company, action=action, name=f"{system} action")


@pytest.fixture
def forms_action(company):
    action_company = _action(company, SystemSlug.FORMS, "form")
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM)
    return action_company


@pytest.fixture
def commerce_action(company):
    action_company = _action(company, SystemSlug.COMMERCE, "commerce")
    product = ProductFactory(company=company, name="Widget", price=Decimal("10.00"), currency="EUR")
    VariantFactory(product=product, name="Large", price=Decimal("12.50"))
    ModuleFactory(action_company=action_company, kind=ModuleKind.PRODUCT, product=product)
    return action_company


@pytest.fixture
def content_action(company):
    action_company = _action(company, SystemSlug.CONTENT, "document")
    content = ContentFactory(company=company, title="Brochure")
    ModuleFactory(action_company=action_company, kind=ModuleKind.CONTENT, content=content)
    return action_company


def link_token(action_company, lead, visitor_uuid) -> str:
    """The token a shared link carries for this action, lead and visitor uuid, valid for a day."""
    return action_link_sign(
        action_company=action_company,
        lead=lead,
        # Signing reads only the visitor's uuid: the visitor itself is created when the page first posts.
        visitor=Visitor(uuid=visitor_uuid),
        expires_at=timezone.now() + timedelta(days=1),
    )


def page_query(action_company, lead, visitor_uuid=None, **extra) -> dict:
    """The query string of a page-data request from a shared link: lead, visitor and a valid token."""
    visitor_uuid = visitor_uuid or uuid.uuid4()
    query = {
        "lead": str(lead.uuid),
        "visitor": str(visitor_uuid),
        "token": link_token(action_company, lead, visitor_uuid),
    }
    query.update(extra)
    return query


def engagement_body(action_company, lead, visitor, stage, message=None, **extra) -> dict:
    """A page's engagement post with a valid token for these uuids (`token=` in extra overrides it)."""
    body = {
        "action": str(action_company.uuid),
        "lead": str(lead.uuid),
        "visitor": str(visitor),
        "stage": stage,
        "message": message or {},
        "token": link_token(action_company, lead, visitor),
    }
    body.update(extra)
    return body


def post_at_once(body: dict, count: int = 2, **headers) -> list:
    """`count` anonymous clients post `body` to the engagements endpoint at the same moment, each in its own
    thread and database connection (a barrier releases them together); their responses, in finishing order."""
    barrier = threading.Barrier(count)
    responses = []

    def post():
        try:
            client = host_client(ACTION_ENGINE_API)
            barrier.wait(timeout=10)
            responses.append(client.post(ENGAGEMENTS_URL, body, format="json", **headers))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses
