"""Debian's Chromium through Playwright, and pages that record every Content-Security-Policy violation
(the browser's securitypolicyviolation events, across navigations, and the console's reports)."""

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

# Runs in every document before its own scripts (Playwright injects it outside the page's policy).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def open_page(browser, **context_options):
    """A new page whose `csp_violations` lists every violation seen and `console_messages` what it logged.

    Chromium also logs each violation to the console ("Refused to ..."); both are kept.
    """
    context = browser.new_context(**context_options)
    violations: list[str] = []
    context.expose_binding("reportCspViolation", lambda source, text: violations.append(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []

    def on_console(message):
        console.append(message.text)
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    page.console_messages = console
    page.csp_violations = violations
    return context, page
