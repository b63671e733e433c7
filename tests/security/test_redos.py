"""Linear-time patterns (issue 10, Hardening): a tenant's JSON-Schema patterns run on RE2, never Python's re.

Before, a company could save a form with `"pattern": "^(a+)+$"`, and one anonymous POST of 26 characters
to /v1/public/engagements held a web worker for seconds; 30 characters passed gunicorn's 30 s timeout.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_hosts.resolvers import reverse_host

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import Engagement, Form
from action_engine.services import form_create
from salesassist.hosts import ACTION_ENGINE_API, DEFAULT
from tests.action_engine.factories import (
    ActionCompanyFactory,
    ActionFactory,
    ActionSystemFactory,
    ActionTypeFactory,
    FormFactory,
    ModuleFactory,
)
from tests.action_engine.public_fixtures import (  # noqa: F401  (fixtures)
    ENGAGEMENTS_URL,
    engagement_body,
    public_api,
)
from tests.crm.factories import CompanyFactory, LeadFactory
from tests.processes import database_url_for_processes

BASE_DIR = Path(settings.BASE_DIR)
HOSTILE_LENGTH = 10_000
# The failure mode is minutes to years: backtracking over 10,000 characters grows exponentially (or as a
# high power of the length) and holds the worker until gunicorn kills it. A linear-time match answers in
# milliseconds; 10 s is a bound a loaded 2-core CI machine still meets with a wide margin.
ANSWERED_AT_ONCE_SECONDS = 10
# Past the bound, so a slow answer fails on the bound's assertion's side rather than hanging the suite.
CLIENT_TIMEOUT_SECONDS = 20

postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="gunicorn in another process needs a shared database: PostgreSQL",
)


def _forms_action(company, schema, *, through_service=True):
    """A published forms action of `company` showing one form with `schema`."""
    action = ActionFactory(system=ActionSystemFactory(slug=SystemSlug.FORMS), type=ActionTypeFactory(slug="form"))
    action_company = ActionCompanyFactory(company=company, action=action, name="Signup")
    if through_service:
        form = form_create(company=company, name="Signup", schema=schema)
    else:  # as saved before patterns were checked
        form = FormFactory(company=company, name="Legacy", schema=schema)
    ModuleFactory(action_company=action_company, kind=ModuleKind.FORM, form=form)
    return action_company


def _submission(action_company, lead, data) -> dict:
    return engagement_body(action_company, lead, uuid.uuid4(), Stage.SUBMITTED, {"data": data})


# --- a hostile value through the real endpoint, on gunicorn ----------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_url(django_db_setup, tmp_path_factory):
    """The project's gunicorn config (gthread, 30 s worker timeout) with one worker, on this test database."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "SECRET_KEY": settings.SECRET_KEY,
        "CONN_MAX_AGE": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
    }
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "salesassist.wsgi", "--config", "deploy/gunicorn.conf.py"],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", headers={"Host": reverse_host(DEFAULT)}, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _string_schema(pattern: str, **extra) -> dict:
    return {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern, **extra}}}


def _keys_schema(pattern: str, **extra) -> dict:
    return {"type": "object", "patternProperties": {pattern: {"type": "integer"}}, **extra}


DRAFT_7 = "http://json-schema.org/draft-07/schema#"
A_THEN_BANG = "a" * (HOSTILE_LENGTH - 1) + "!"

HOSTILE = {
    # name: (schema, data, the status its meaning asks for)
    "nested quantifier ^(a+)+$": (_string_schema("^(a+)+$"), {"code": A_THEN_BANG}, 400),
    "overlapping alternation (a|aa)+$": (_string_schema("(a|aa)+$"), {"code": A_THEN_BANG}, 400),
    "repeated wildcard (.*a){20}": (
        _string_schema("(.*a){20}"),
        {"code": "a" * 19 + "!" * (HOSTILE_LENGTH - 19)},
        400,
    ),
    "patternProperties key, other keys allowed": (_keys_schema("^(a+)+$"), {A_THEN_BANG: 1}, 201),
    "patternProperties and additionalProperties false": (
        _keys_schema("^(a+)+$", additionalProperties=False),
        {A_THEN_BANG: 1},
        400,
    ),
    "patternProperties and unevaluatedProperties false": (
        _keys_schema("^(a+)+$", unevaluatedProperties=False),
        {A_THEN_BANG: 1},
        400,
    ),
    "a subschema declaring draft 7": (
        {"type": "object", "properties": {"code": {"$schema": DRAFT_7, "type": "string", "pattern": "^(a+)+$"}}},
        {"code": A_THEN_BANG},
        400,
    ),
}


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_value_against_a_redos_pattern_is_answered_at_once(gunicorn_url, case):
    schema, data, expected_status = HOSTILE[case]
    company = CompanyFactory()
    action_company = _forms_action(company, schema)
    lead = LeadFactory(company=company)
    started = time.monotonic()
    response = httpx.post(
        f"{gunicorn_url}{ENGAGEMENTS_URL}",
        json=_submission(action_company, lead, data),
        headers={"Host": reverse_host(ACTION_ENGINE_API)},
        timeout=CLIENT_TIMEOUT_SECONDS,
    )
    elapsed = time.monotonic() - started
    assert elapsed < ANSWERED_AT_ONCE_SECONDS, f"{case}: answered after {elapsed:.1f} s"
    assert response.status_code == expected_status, response.text
    if expected_status == 400:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert Engagement.objects.filter(lead=lead, stage=Stage.SUBMITTED).count() == 0


# --- a pattern RE2 cannot compile is refused at save ------------------------------------------------

UNCOMPILABLE = {
    # name: (schema, the JSON path the error names)
    "backreference": (_string_schema("^(\\w)\\1$"), "properties/code/pattern"),
    "named backreference": (_string_schema("^(?<c>\\w)\\k<c>$"), "properties/code/pattern"),
    "lookahead": (_string_schema("^(?=.*\\d).{8,}$"), "properties/code/pattern"),
    "lookbehind": (_string_schema("(?<!x)y"), "properties/code/pattern"),
    "possessive quantifier": (_string_schema("a++"), "properties/code/pattern"),
    "repetition over 1000": (_string_schema("^a{1,5000}$"), "properties/code/pattern"),
    "larger than its memory budget": (_string_schema("^" + ".{1,1000}" * 10 + "$"), "properties/code/pattern"),
    "patternProperties key": (_keys_schema("^x-(?!internal)"), "patternProperties/^x-(?!internal)"),
    "pattern under $defs": (
        {"type": "object", "$defs": {"sku": {"type": "string", "pattern": "(a)\\1"}}},
        "$defs/sku/pattern",
    ),
    "patternProperties key with a slash, nested": (
        {"type": "object", "properties": {"meta": {"type": "object", "patternProperties": {"a/(?=b)": {}}}}},
        "properties/meta/patternProperties/a~1(?=b)",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(UNCOMPILABLE))
def test_a_pattern_re2_cannot_compile_is_refused_at_save_through_the_api(action_engine_api, case):
    schema, path = UNCOMPILABLE[case]
    response = action_engine_api.post("/v1/forms", {"name": "Bad", "schema": schema}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "urn:salesassist:problem:invalid_schema"
    assert [message.split(": RE2 cannot compile")[0] for message in body["errors"]["schema"]] == [path]
    assert not Form.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(UNCOMPILABLE))
def test_a_pattern_re2_cannot_compile_is_refused_at_save_through_the_admin(admin_client, company, case):
    schema, path = UNCOMPILABLE[case]
    response = admin_client.post(
        reverse("admin:action_engine_form_add"),
        {
            "company": company.pk,
            "name": "Bad",
            "schema": json.dumps(schema),
            "submit_label": "Send",
            "success_message": "Ok",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["schema"]
    assert [message.split(": RE2 cannot compile")[0] for message in errors] == [path]
    assert not company.forms.exists()


# --- what patterns mean: draft 2020-12 (ECMA-262), not Python's re -----------------------------------


def _answers(public_api, action_company, lead, data) -> bool:
    """Whether the public endpoint accepts `data` for the form (201), or refuses it (400) for the form."""
    response = public_api.post(ENGAGEMENTS_URL, _submission(action_company, lead, data), format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert set(response.json()["errors"]) <= {f"data.{key}" for key in data} | {"data"}, response.json()
    return response.status_code == 201


PATTERN_MEANINGS = [
    # (pattern, value, matches)
    ("abc", "xx abc xx", True),  # `pattern` is not anchored
    ("^abc$", "xx abc xx", False),
    ("^[A-Z]{2}-[0-9]{4}$", "AB-1234", True),
    ("^\\+?\\d{6,15}$", "+4915112345678", True),
    ("^\\d+$", "١٢٣", False),  # \d is [0-9] in ECMA-262; Python's re took any Unicode digit
    ("^\\w+$", "café", False),  # \w is [A-Za-z0-9_]
    ("^abc$", "abc\n", False),  # $ ends the value; Python's re also matched before a final newline
    ("^\\u00e9t\\u00e9$", "été", True),  # ECMA-262 escapes
    ("^\\uD83D\\uDE00$", "😀", True),  # a surrogate pair is one character
    ("^.{3}$", "日本語", True),  # characters, not bytes
    ("^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", "ada@example.com", True),
    ("^(?:red|green|blue)$", "green", True),
    ("^(?<area>\\d{3})-\\d{4}$", "555-1234", True),  # named groups
]


@pytest.mark.django_db
def test_normal_patterns_keep_their_draft_2020_12_meaning(public_api, company):
    lead = LeadFactory(company=company)
    wrong = []
    for pattern, value, matches in PATTERN_MEANINGS:
        action_company = _forms_action(company, _string_schema(pattern))
        if _answers(public_api, action_company, lead, {"code": value}) is not matches:
            wrong.append((pattern, value))
    assert wrong == []


UNEVALUATED_UNLESS_A_STRING = {
    "type": "object",
    "allOf": [{"patternProperties": {"^a": {"type": "string"}}}],
    "unevaluatedProperties": False,
}

KEY_MEANINGS = [
    # (schema, data, accepted)
    (_keys_schema("^x-\\d+$", additionalProperties=False), {"x-12": 5}, True),
    (_keys_schema("^x-\\d+$", additionalProperties=False), {"x-12": "five"}, False),  # its subschema applies
    (_keys_schema("^x-\\d+$", additionalProperties=False), {"y": 1}, False),
    (_keys_schema("^x-\\d+$", additionalProperties=False), {"x-١": 1}, False),  # \d is ASCII
    (_keys_schema("^x-\\d+$", additionalProperties=False), {"x-1\n": 1}, False),  # $ ends the key
    (_keys_schema("b"), {"abc": "not an integer"}, False),  # keys are searched, not anchored
    (_keys_schema("b"), {"xyz": "not matched, so free"}, True),
    (UNEVALUATED_UNLESS_A_STRING, {"ab": "s"}, True),
    (UNEVALUATED_UNLESS_A_STRING, {"ba": "s"}, False),  # no pattern evaluated "ba"
    (UNEVALUATED_UNLESS_A_STRING, {"ab": 1}, False),
    (
        {"type": "object", "allOf": [{"patternProperties": {"^\\d$": {}}}], "unevaluatedProperties": False},
        {"٣": 1},
        False,
    ),
]


@pytest.mark.django_db
def test_pattern_properties_keep_their_draft_2020_12_meaning(public_api, company):
    lead = LeadFactory(company=company)
    wrong = []
    for schema, data, accepted in KEY_MEANINGS:
        action_company = _forms_action(company, schema)
        if _answers(public_api, action_company, lead, data) is not accepted:
            wrong.append((schema, data))
    assert wrong == []


# --- forms saved before the rule ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_form_saved_before_with_a_pattern_re2_cannot_compile_refuses_submissions_and_is_reported(
    public_api, company
):
    # Python's re would accept "aa" here: the backreference repeats the first character.
    action_company = _forms_action(company, _string_schema("^(a)\\1$"), through_service=False)
    lead = LeadFactory(company=company)
    response = public_api.post(ENGAGEMENTS_URL, _submission(action_company, lead, {"code": "aa"}), format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "RE2 cannot compile" in response.json()["errors"]["form"][0]
    assert not Engagement.objects.filter(lead=lead, stage=Stage.SUBMITTED).exists()

    out = StringIO()
    with pytest.raises(CommandError, match="1 form"):
        call_command("check_form_patterns", stdout=out)
    form = action_company.modules.get().form
    assert f"{company.slug}  form {form.uuid}" in out.getvalue()
    assert "properties/code/pattern: RE2 cannot compile" in out.getvalue()
