"""The dependency rule (docs/architecture.md), checked by import-linter's contracts in pyproject.toml."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("salesassist", "crm", "products", "action_engine", "workflows")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_import_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def _copy_of_the_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_a_lower_layer_importing_a_higher_one_breaks_the_build(tmp_path):
    project = _copy_of_the_project(tmp_path)
    # Even inside a function: the rule is about dependencies, not import time.
    _add_import(project / "crm" / "models.py", "def _peek():\n    from workflows.models import Delivery  # noqa")
    result = _lint_imports(project)
    assert result.returncode == 1
    assert "crm is not allowed to import workflows" in result.stdout
    assert "crm.models -> workflows.models" in result.stdout


def test_the_kernel_importing_a_domain_or_the_wiring_breaks_the_build(tmp_path):
    project = _copy_of_the_project(tmp_path)
    _add_import(project / "salesassist" / "core" / "models.py", "import salesassist.urls.default  # noqa")
    result = _lint_imports(project)
    assert result.returncode == 1
    assert "salesassist.core is not allowed to import salesassist.urls" in result.stdout
    assert "salesassist.core.models -> salesassist.urls.default" in result.stdout


def test_a_cycle_between_the_modules_of_a_package_breaks_the_build(tmp_path):
    project = _copy_of_the_project(tmp_path)
    _add_import(project / "action_engine" / "choices.py", "from action_engine import selectors  # noqa")
    result = _lint_imports(project)
    assert result.returncode == 1
    assert "No cycles between the modules of a package BROKEN" in result.stdout
