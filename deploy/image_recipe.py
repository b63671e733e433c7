"""Run the Dockerfile's own recipe without a container engine: its pip and manage.py steps, in a fresh
virtualenv, on a copy of the build context (what .dockerignore lets through), with the Dockerfile's ENV.

    python deploy/image_recipe.py [--dockerfile Dockerfile]

The steps are read from the Dockerfile, not repeated here. Commands that only shape the image (useradd,
mkdir, chown) need root and would change this machine: they are listed and skipped. The run fails unless
the dependency install, collectstatic and `check --deploy` were all among the steps it ran.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Commands the image's build runs with its Python; everything else is image setup.
RECIPE_PROGRAMS = {"pip", "python"}
REQUIRED_STEPS = {
    "install": lambda argv: argv[:2] == ["pip", "install"],
    "collectstatic": lambda argv: argv[:3] == ["python", "manage.py", "collectstatic"],
    "check --deploy": lambda argv: argv[:3] == ["python", "manage.py", "check"] and "--deploy" in argv,
}


# What the package installer needs from this machine (its index, certificates, proxy); nothing else of
# this shell (no DATABASE_URL, CACHE_URL, ENV_FILE…) reaches the steps.
INSTALLER_ENVIRONMENT = re.compile(r"PIP_\w+|\w+_proxy|\w+_PROXY|SSL_CERT_\w+|HOME")


@dataclass
class Step:
    """One shell command of a RUN instruction: its leading VAR=value assignments and its argv."""

    env: dict[str, str]
    argv: list[str]


@dataclass
class Recipe:
    base_image: str = ""
    env: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            result.append((keyword.upper(), arguments.strip()))
            pending = ""
    return result


def assignments(words: list[str]) -> dict[str, str]:
    """The leading NAME=value words, taken off `words`."""
    env = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env


def parse(text: str) -> Recipe:
    """The recipe, for a Dockerfile that builds in its WORKDIR from `COPY . .` (as this project's does)."""
    recipe = Recipe()
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            recipe.base_image = arguments.split()[0]
        elif keyword == "ENV":
            recipe.env.update(assignments(shlex.split(arguments)))
        elif keyword == "RUN":
            for command in arguments.split("&&"):
                words = shlex.split(command)
                step = Step(env=assignments(words), argv=words)
                if step.argv and step.argv[0] in RECIPE_PROGRAMS:
                    recipe.steps.append(step)
                else:
                    recipe.skipped.append(command.strip())
    missing = [name for name, matches in REQUIRED_STEPS.items() if not any(matches(s.argv) for s in recipe.steps)]
    if missing:
        raise ValueError(f"the Dockerfile has no {', '.join(missing)} step to run")
    return recipe


def dockerignored(patterns: list[str]):
    """A shutil.copytree ignore function for .dockerignore's patterns as this project writes them."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative_dir = Path(directory).relative_to(ROOT)
        ignored = set()
        for name in names:
            relative = (relative_dir / name).as_posix()
            for pattern in patterns:
                if pattern.startswith("**/") and name == pattern[3:] or relative == pattern:
                    ignored.add(name)
        return ignored

    return ignore


def build_context(destination: Path) -> None:
    ignore_file = ROOT / ".dockerignore"
    patterns = [line.strip() for line in ignore_file.read_text().splitlines() if line.strip()]
    shutil.copytree(ROOT, destination, ignore=dockerignored(patterns), symlinks=True, dirs_exist_ok=True)


def base_python_version(base_image: str) -> str:
    match = re.fullmatch(r"python:(\d+\.\d+)[^/]*", base_image)
    if not match:
        raise ValueError(f"not a python base image: {base_image}")
    return match[1]


def run(dockerfile: Path) -> None:
    recipe = parse(dockerfile.read_text())
    version = base_python_version(recipe.base_image)
    if f"{sys.version_info.major}.{sys.version_info.minor}" != version:
        raise SystemExit(f"{recipe.base_image} needs Python {version}; this is {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="image-recipe-") as scratch:
        scratch = Path(scratch)
        venv, app = scratch / "venv", scratch / "app"
        subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
        build_context(app)
        env = {name: value for name, value in os.environ.items() if INSTALLER_ENVIRONMENT.fullmatch(name)}
        env.update(PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", VIRTUAL_ENV=str(venv), **recipe.env)
        for command in recipe.skipped:
            print(f"skipped (image setup only): {command}")
        for step in recipe.steps:
            started = time.monotonic()
            print(f"+ {shlex.join(step.argv)}", flush=True)
            # The copy of the build context stands for the image's WORKDIR.
            subprocess.run(step.argv, cwd=app, env={**env, **step.env}, check=True)
            print(f"  ({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dockerfile", type=Path, default=ROOT / "Dockerfile")
    run(parser.parse_args().dockerfile)
