"""Security headers with DEBUG off, as in production: HSTS, the HTTPS redirect, the Content-Security-Policy,
and `manage.py check --deploy` passing on the defaults alone."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django_hosts.resolvers import reverse_host

from salesassist.hosts import ACTION_ENGINE_API, API_SUBDOMAINS, CRM_API, DEFAULT
from tests.action_engine.factories import ActionCompanyFactory

BASE_DIR = Path(__file__).resolve().parents[2]


def production_environment(**extra) -> dict:
    """Only what production must set (DEBUG off by default, no .env): the rest is the settings' defaults."""
    return {
        "ENV_FILE": "",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/salesassist-check-deploy.sqlite3"),
        "PARENT_HOST": "salesassist.example.com",
        **extra,
    }


def settings_in_production(*names: str, **environment) -> list[str]:
    """The repr of each setting as a fresh process with the production environment computes it."""
    code = "from django.conf import settings\n" + "".join(f"print(repr(settings.{name}))\n" for name in names)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**production_environment(**environment), "DJANGO_SETTINGS_MODULE": "salesassist.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.django_db
def test_https_answers_carry_hsts_with_debug_off():
    for host_name, path in ((DEFAULT, "/healthz"), (CRM_API, "/v1/docs/")):
        response = Client(HTTP_HOST=reverse_host(host_name)).get(path, secure=True)
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        # Over plain HTTP the header means nothing and is not sent (the redirect comes first in production).
        assert "Strict-Transport-Security" not in Client(HTTP_HOST=reverse_host(host_name)).get(path)


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_the_health_check_is_not(settings):
    # The tests turn the redirect off (pyproject.toml); production's default is on, with the proxy's header.
    in_production = settings_in_production(
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "PUBLIC_URL_SCHEME",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    assert in_production == ["True", "('HTTP_X_FORWARDED_PROTO', 'https')", "'https'"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client(HTTP_HOST=reverse_host(DEFAULT))
    redirected = client.get("/admin/login/")
    assert redirected.status_code == 301
    assert redirected["Location"] == f"https://{reverse_host(DEFAULT)}/admin/login/"
    assert client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    # Kubernetes probes speak plain HTTP to the pod, without the proxy's header.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_the_action_page_and_the_admin_have_a_strict_content_security_policy(settings):
    action_company = ActionCompanyFactory()
    # The page calls the API on the same scheme and port as itself: the policy names exactly that origin.
    client = Client(HTTP_HOST=f"{settings.PARENT_HOST}:8123")
    page = client.get(f"/a/{action_company.action.uuid}/", {"lead": "00000000-0000-4000-8000-000000000000"})
    assert page.status_code == 200
    # Every script is a file of this origin: none inline, so an injected one would not run.
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", page.content)
    api_origin = f"http://{API_SUBDOMAINS[ACTION_ENGINE_API]}.{settings.PARENT_HOST}:8123"
    assert policy(page) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'", api_origin],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    admin = policy(client.get("/admin/login/"))
    assert admin["script-src"] == admin["style-src"] == ["'self'"]
    assert admin["frame-ancestors"] == ["'none'"]


def test_check_deploy_passes_on_the_defaults():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
