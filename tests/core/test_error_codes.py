"""Domain errors carry a code from their app's enum and no HTTP; one table in the API layer answers for them."""
import ast
import importlib
import pkgutil
from enum import StrEnum
from pathlib import Path

import pytest

from action_engine.services import LeadNotFound
from salesassist.core.errors import (
    INTERNAL_ERROR_STORED,
    PROBLEM_CONTENT_TYPE,
    PROBLEM_KINDS,
    problem_for,
    problem_response,
    problem_stored,
)
from salesassist.core.exceptions import (
    Conflict,
    CoreError,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SignatureInvalid,
    Unprocessable,
)

ROOT = Path(__file__).resolve().parents[2]
APPS = ("salesassist", "crm", "products", "action_engine", "workflows")
# Modules that do something when imported (build the WSGI/ASGI application): no domain error lives there.
NOT_IMPORTED = {"salesassist.wsgi", "salesassist.asgi"}


def _import_every_module() -> None:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if module.name not in NOT_IMPORTED and ".migrations." not in module.name:
                importlib.import_module(module.name)


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def _project_domain_errors() -> set[type[DomainError]]:
    _import_every_module()
    return {cls for cls in _subclasses(DomainError) if cls.__module__.split(".")[0] in APPS}


def test_every_domain_error_of_the_project_is_a_kind_of_the_table():
    # A direct subclass of DomainError outside the table would silently answer 400: it must be a kind there,
    # or subclass one (LeadNotFound is a NotFound).
    errors = _project_domain_errors()
    assert LeadNotFound in errors
    for cls in errors:
        nearest_kind = next(kind for kind in cls.__mro__ if kind in PROBLEM_KINDS)
        assert nearest_kind is not DomainError, cls


def test_every_domain_error_class_has_an_enum_code_and_no_http():
    for cls in {DomainError, *_project_domain_errors()}:
        assert isinstance(cls.code, StrEnum), cls
        assert not hasattr(cls, "status") and not hasattr(cls, "title"), cls


def _code_given(node: ast.AST, names: set[str]) -> ast.expr | None:
    """The code a domain error is raised with (a call's code=) or declared with (its class's `code = ...`)."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in names:
        return next((keyword.value for keyword in node.keywords if keyword.arg == "code"), None)
    if isinstance(node, ast.ClassDef) and {getattr(base, "id", None) for base in node.bases} & names:
        for item in node.body:
            targets = item.targets if isinstance(item, ast.Assign) else [getattr(item, "target", None)]
            if "code" in {getattr(target, "id", None) for target in targets}:
                return item.value
    return None


def _raise_sites_with_a_literal_code(root: Path, apps=APPS) -> list[str]:
    """file:line of each domain error raised with a string for its code, or declared with one."""
    names = {cls.__name__ for cls in {DomainError, *_project_domain_errors()}}
    found = []
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(_code_given(node, names), ast.Constant):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_code_given_at_a_raise_site_is_an_enum_member():
    assert _raise_sites_with_a_literal_code(ROOT) == []


def test_the_check_sees_a_string_code(tmp_path):
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "services.py").write_text(
        "from salesassist.core.exceptions import Conflict, DomainError\n"
        'raise Conflict("No.", code="nope")\n'
        "class Refused(DomainError):\n"
        '    code = "refused"\n'
    )
    assert set(_raise_sites_with_a_literal_code(tmp_path, apps=["crm"])) == {"crm/services.py:2", "crm/services.py:3"}


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (DomainError("No."), 400, "Invalid request"),
        (InvalidInput("Bad.", errors={"name": ["Required."]}), 400, "Invalid input"),
        (SignatureInvalid("Unsigned."), 401, "Invalid signature"),
        (PermissionDenied("No."), 403, "Permission denied"),
        (LeadNotFound("No such lead."), 404, "Not found"),
        (Conflict("In use.", code=CoreError.PROTECTED), 409, "Conflict"),
        (Unprocessable("Another request."), 422, "Unprocessable content"),
    ],
)
def test_each_kind_as_problem_details_stored_and_answered(error, status, title):
    body = {"type": f"urn:salesassist:problem:{error.code.value}", "title": title, "status": status}
    body["detail"] = error.detail
    if error.errors:
        body["errors"] = error.errors
    assert problem_for(error) == (status, body)
    assert problem_stored(error) == {
        "status": status,
        "code": error.code.value,
        "detail": error.detail,
        "errors": error.errors,
    }
    response = problem_response(error, attempt="a-uuid")
    assert (response.status_code, response.content_type) == (status, PROBLEM_CONTENT_TYPE)
    assert response.data == {**body, "attempt": "a-uuid"}


def test_the_stored_internal_error_has_the_shape_of_a_stored_domain_error():
    assert INTERNAL_ERROR_STORED.keys() == problem_stored(NotFound("No.")).keys()
    assert (INTERNAL_ERROR_STORED["status"], INTERNAL_ERROR_STORED["code"]) == (500, "internal_error")
