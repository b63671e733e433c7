"""Fixtures of the browser tests: one Chromium per test (tests/e2e/browser.py)."""

import pytest
from django.db import connections

from .browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop on this thread; Django then refuses ORM calls from it
    # unless told they are safe. They are: the loop only drives the browser, never our queries.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(orm_beside_playwright):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Playwright runs the test in a greenlet, where Django's connections (context-local) are not the
        # ones pytest-django closes at teardown: close them here, or they outlive the test database.
        connections.close_all()
