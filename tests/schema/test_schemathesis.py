"""Schemathesis: every operation of the three API schemas, generated from the schemas and sent to the app.

Each API host's schema is loaded from the app itself (`/v1/schema/` through Django's test WSGI handler,
in-process, no network). Every operation becomes one pytest item (`test_crm_api[GET /v1/leads/]`, ...),
which runs schemathesis' examples, coverage and fuzzing phases — valid and invalid requests alike — and
every response check schemathesis has. The requests are authenticated with a company's API key and hit
PostgreSQL rows made by `api_rows`: a generated uuid in a path is swapped, some of the time, for the uuid
of a real row of the kind that path names, so reads, writes and deletes reach real objects too.

SCHEMATHESIS_MAX_EXAMPLES raises the fuzzing examples per operation (default below) for a longer local run;
SCHEMATHESIS_SEED picks another fixed seed (the run is deterministic, so CI sees the same cases each time).
"""
import os
import uuid

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
from django.test.client import ClientHandler
from django_hosts.resolvers import reverse_host
from schemathesis.config import SchemathesisConfig

from crm.choices import ApiKeyAccess
from salesassist.hosts import ACTION_ENGINE_API, CRM_API, PRODUCTS_API
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionDataTypeFactory,
    ActionFactory,
    EngagementFactory,
    FormFactory,
    LeadActionStateFactory,
    ModuleFactory,
    ReceiverCallFactory,
)
from tests.crm.factories import (
    ApiKeyFactory,
    CompanyFactory,
    LeadFactory,
    LeadReceiverAttemptFactory,
    LeadReceiverFactory,
    VisitorFactory,
)
from tests.products.factories import ContentFactory, ProductFactory, VariantFactory
from tests.workflows.factories import (
    ActionCompanyWorkflowFactory,
    ActionWorkflowFactory,
    DeliveryFactory,
    WorkflowFactory,
)

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))

_handler = ClientHandler(enforce_csrf_checks=True)


def APP(environ, start_response):
    """A WSGI app around Django's test handler, which keeps the test's database connection (and its
    transaction) open across requests, as Django's test client does."""
    response = _handler(environ)
    cookies = [("Set-Cookie", cookie.output(header="").strip()) for cookie in response.cookies.values()]
    headers = [*response.items(), *cookies]
    start_response(f"{response.status_code} {response.reason_phrase}", headers)
    return response


def host_of(host_name: str) -> str:
    return reverse_host(host_name)


# Operations where a request the schema calls valid may still be refused with a 400, and why: a rule about
# other rows or between fields, which JSON Schema cannot state. For these alone positive_data_acceptance also
# takes 400 (it still fails on any other refusal); every other check runs on them as everywhere.
NAMES_OTHER_ROWS = "the body names other rows (by uuid or username) that must exist and be the company's"
WORKFLOW_CONFIG = "`config` has the keys of the workflow's kind (a webhook's url, an email's recipients)"
RULES_BETWEEN_FIELDS = {
    "POST /v1/leads/": NAMES_OTHER_ROWS + " (owner)",
    "PUT /v1/leads/{uuid}/": NAMES_OTHER_ROWS + " (owner)",
    "PATCH /v1/leads/{uuid}/": NAMES_OTHER_ROWS + " (owner)",
    "POST /v1/lead-receivers/": NAMES_OTHER_ROWS + " (default_owner)",
    "PUT /v1/lead-receivers/{uuid}/": NAMES_OTHER_ROWS + " (default_owner)",
    "PATCH /v1/lead-receivers/{uuid}/": NAMES_OTHER_ROWS + " (default_owner)",
    "POST /v1/lead-receivers/{uuid}/rotate-secret/": "a secret or generate_secret, not both; a secret must be whsec_",
    "POST /v1/receivers/{receiver_uuid}/leads": "the receiver's template must map the call to an email or a phone",
    "GET /v1/leads/{lead_uuid}/feed/": "`until` must be after `since`",
    "GET /v1/engagements/": "`until` must be after `since`",
    "GET /v1/company-actions/{uuid}/funnel": "`until` must be after `since`",
    "GET /v1/company-actions/{uuid}/leads": "a stage filter must be a stage of the action's pipeline",
    "POST /v1/content/": "content needs a url or a body",
    "PUT /v1/content/{uuid}/": "content needs a url or a body",
    "PATCH /v1/content/{uuid}/": "content needs a url or a body",
    "POST /v1/products/": NAMES_OTHER_ROWS + " (variants.uuid)",
    "PUT /v1/products/{uuid}/": NAMES_OTHER_ROWS + " (variants.uuid)",
    "PATCH /v1/products/{uuid}/": NAMES_OTHER_ROWS + " (variants.uuid)",
    "POST /v1/actions/": NAMES_OTHER_ROWS + " (type, system, data_type)",
    "PUT /v1/actions/{uuid}/": NAMES_OTHER_ROWS + " (type, system, data_type)",
    "PATCH /v1/actions/{uuid}/": NAMES_OTHER_ROWS + " (type, system, data_type)",
    "POST /v1/actions/{action_uuid}/workflows/": NAMES_OTHER_ROWS + " (workflow)",
    "POST /v1/actions/{action_uuid}/workflows/reorder/": "a new order must list every attached workflow exactly once",
    "POST /v1/company-actions/": NAMES_OTHER_ROWS + " (action)",
    "PUT /v1/company-actions/{uuid}/": NAMES_OTHER_ROWS + " (action)",
    "PATCH /v1/company-actions/{uuid}/": NAMES_OTHER_ROWS + " (action)",
    "POST /v1/company-actions/{uuid}/share": NAMES_OTHER_ROWS + " (lead)",
    "POST /v1/company-actions/{company_action_uuid}/modules/": NAMES_OTHER_ROWS + " (target, of the module's kind)",
    "POST /v1/company-actions/{company_action_uuid}/modules/reorder/": "a new order must list every module once",
    "POST /v1/company-actions/{company_action_uuid}/receivers/": "a secret must be whsec_ and 24 to 64 bytes in base64",
    "POST /v1/company-actions/{company_action_uuid}/workflows/": NAMES_OTHER_ROWS + " (workflow)",
    "POST /v1/company-actions/{company_action_uuid}/workflows/reorder/": "a new order must list every workflow once",
    "POST /v1/forms/": "`schema` must be a valid JSON Schema of type object",
    "PUT /v1/forms/{uuid}/": "`schema` must be a valid JSON Schema of type object",
    "PATCH /v1/forms/{uuid}/": "`schema` must be a valid JSON Schema of type object",
    "POST /v1/workflows/": WORKFLOW_CONFIG,
    "PUT /v1/workflows/{uuid}/": WORKFLOW_CONFIG,
    "PATCH /v1/workflows/{uuid}/": WORKFLOW_CONFIG,
    "POST /v1/receivers/{receiver_uuid}": "the receiver's mapping must find a lead, a visitor and a stage in the call",
    "POST /v1/leads/import": "the body must be CSV or JSON lines (any string is not); `receiver` names a row",
}
ACCEPTED_OR_REFUSED_BY_RULE = ["2xx", "400", "401", "403", "404", "409"]


def schemathesis_config(host_name: str) -> SchemathesisConfig:
    """One config per API host: the same generation and checks, each with its own base URL (Host header)."""
    return SchemathesisConfig.from_dict(
        {
            "base-url": f"http://{host_of(host_name)}",
            "seed": int(os.environ.get("SCHEMATHESIS_SEED", "1")),
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "mode": "all",  # valid requests (which must be accepted) and invalid ones (to be refused)
                "deterministic": True,
                "database": "none",  # no .hypothesis/ folder in the checkout
                # PostgreSQL cannot store NUL characters, so the server refuses them in any string (a 400,
                # tested in tests/core); the schemas do not spell that out for every string.
                "allow-x00": False,
            },
            # Every check schemathesis has; none is switched off.
            "checks": {"enabled": True},
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_OR_REFUSED_BY_RULE}},
                }
                for name in RULES_BETWEEN_FIELDS
            ],
        }
    )


def load_schema(host_name: str):
    """The host's schema as the app serves it (so the test sees exactly what clients see)."""
    return schemathesis.openapi.from_wsgi(
        "/v1/schema/?format=json", APP, config=schemathesis_config(host_name), headers={"Host": host_of(host_name)}
    )


@schemathesis.serializer("application/x-ndjson")
def json_lines_serializer(context, value) -> bytes:
    """A JSON-lines body (the lead import's) is text on the wire; schemathesis only knows text/* as text."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", errors="surrogatepass")


crm_schema = load_schema(CRM_API)
products_schema = load_schema(PRODUCTS_API)
action_engine_schema = load_schema(ACTION_ENGINE_API)

# (host, the path segment before a uuid parameter) -> the uuid of a real row, filled by `api_rows`.
REAL_ROWS: dict[tuple[str, str], uuid.UUID] = {}


def real_row_for(host: str, path: str, name: str) -> uuid.UUID | None:
    segments = path.strip("/").split("/")
    at = segments.index("{" + name + "}")
    kind = "/".join(segments[at - 2 : at]) if segments[at - 2] == "public" else segments[at - 1]
    return REAL_ROWS.get((host, kind))


def swap_in_real_rows(host_name: str):
    """A flatmap hook: keep the generated path parameters or put real uuids in (hypothesis picks)."""
    host = host_of(host_name)

    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        real = dict(path_parameters)
        for name, value in path_parameters.items():
            row = real_row_for(host, context.operation.path, name)
            # Only a well-formed uuid is swapped: an invalid one stays, for the negative cases.
            if row is not None and is_uuid(value):
                real[name] = str(row)
        return st.sampled_from([path_parameters, real])

    return flatmap_path_parameters


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def without_invented_cursors(context, case):
    """A map_case hook: a valid request carries no made-up `cursor`.

    A cursor is an opaque token the server issued in a `next` or `previous` link; any other string is
    refused (400), which no schema can tell from a real one. Invalid requests keep theirs.
    """
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        case.query.pop("cursor", None)
    return case


for schema, host_name in (
    (crm_schema, CRM_API),
    (products_schema, PRODUCTS_API),
    (action_engine_schema, ACTION_ENGINE_API),
):
    schema.hook("flatmap_path_parameters")(swap_in_real_rows(host_name))
    schema.hook("map_case")(without_invented_cursors)


@pytest.fixture
def api_rows(db):
    """A company with a read-write API key and one real row of every kind the APIs address by uuid."""
    company = CompanyFactory(name="Schemathesis", slug="schemathesis")
    api_key = ApiKeyFactory(company=company, access=ApiKeyAccess.READ_WRITE)
    lead = LeadFactory(company=company)
    visitor = VisitorFactory(company=company, lead=lead)
    lead_receiver = LeadReceiverFactory(company=company)
    lead_receiver_attempt = LeadReceiverAttemptFactory(receiver=lead_receiver)
    product = ProductFactory(company=company)
    VariantFactory(product=product)
    content = ContentFactory(company=company)
    action = ActionFactory(company=company)
    form = FormFactory(company=company)
    action_company = ActionCompanyFactory(company=company, action=action)
    module = ModuleFactory(action_company=action_company, form=form)
    workflow = WorkflowFactory(company=company)
    ActionWorkflowFactory(action=action, workflow=workflow)
    ActionCompanyWorkflowFactory(action_company=action_company, workflow=workflow)
    engagement = EngagementFactory(action_company=action_company, lead=lead, visitor=visitor)
    LeadActionStateFactory(action_company=action_company, lead=lead, last_engagement=engagement, utm_source="ads")
    delivery = DeliveryFactory(engagement=engagement, workflow=workflow)
    receiver_call = ReceiverCallFactory(company=company, receiver=action_company.receivers.get())
    crm, products, engine = host_of(CRM_API), host_of(PRODUCTS_API), host_of(ACTION_ENGINE_API)
    REAL_ROWS.clear()
    REAL_ROWS.update(
        {
            (crm, "leads"): lead.uuid,
            (crm, "visitors"): visitor.uuid,
            (crm, "lead-receivers"): lead_receiver.uuid,
            (crm, "receivers"): lead_receiver.uuid,
            (crm, "receiver-attempts"): lead_receiver_attempt.uuid,
            (products, "products"): product.uuid,
            (products, "content"): content.uuid,
            (engine, "action-types"): action.type.uuid,
            (engine, "action-systems"): action.system.uuid,
            (engine, "action-data-types"): ActionDataTypeFactory().uuid,
            (engine, "actions"): action.uuid,
            (engine, "company-actions"): action_company.uuid,
            (engine, "public/actions"): action_company.uuid,
            (engine, "modules"): module.uuid,
            (engine, "receivers"): action_company.receivers.get().uuid,
            (engine, "workflows"): workflow.uuid,
            (engine, "engagements"): engagement.uuid,
            (engine, "deliveries"): delivery.uuid,
            (engine, "forms"): form.uuid,
            (engine, "receiver-calls"): receiver_call.uuid,
        }
    )
    yield {"Authorization": f"Bearer {api_key.token}"}
    REAL_ROWS.clear()


# The rows are made once per operation, not per example: examples build on each other's writes (a delete
# leaves a 404 for later examples, which the schemas document), and one setup per example would cost minutes.
SHARED_ROWS = hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])


def call_and_validate(case, auth_headers):
    # The WSGI transport sends to http://localhost unless told the base URL, which carries the API's host.
    case.call_and_validate(base_url=case.operation.base_url, headers=auth_headers)


@crm_schema.parametrize()
@SHARED_ROWS
def test_crm_api(case, api_rows):
    call_and_validate(case, api_rows)


@products_schema.parametrize()
@SHARED_ROWS
def test_products_api(case, api_rows):
    call_and_validate(case, api_rows)


@action_engine_schema.parametrize()
@SHARED_ROWS
def test_action_engine_api(case, api_rows):
    call_and_validate(case, api_rows)
