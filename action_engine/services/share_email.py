"""The email that carries a shared link to the lead: the company's template, filled in safely.

A company's template lives in its settings["share_email"]: {"subject": "...", "body": "..."} (either may be
left out for the default). Templates are tenant text, so they are never run through Django's template
engine (which would let them reach any variable or tag): only the placeholders below are replaced, values
are HTML-escaped in the HTML part, and anything else stays as written.
"""
import html
import re
from collections.abc import Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.utils.html import linebreaks

from action_engine.models import ActionCompany
from crm.models import Lead

SHARE_EMAIL_SETTING = "share_email"
SHARE_EMAIL_PLACEHOLDERS = ("first_name", "last_name", "full_name", "action_name", "company_name", "link")
DEFAULT_SUBJECT = "{company_name}: {action_name}"
DEFAULT_BODY = "Hello {first_name},\n\n{company_name} would like you to see this: {action_name}.\n\n{link}\n"
# Longer templates are ignored for the default: a subject is one header line, a body a short message.
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10_000
UNSUBSCRIBE_FOOTER = "You receive this email because {company_name} sent it to you. Unsubscribe: {unsubscribe}"
_PLACEHOLDER = re.compile(r"\{(" + "|".join(SHARE_EMAIL_PLACEHOLDERS) + r")\}")


def _template(company, key: str, default: str, max_length: int) -> str:
    """The company's template text for `key`, or the default when it set none or something that is not text."""
    template = company.settings.get(SHARE_EMAIL_SETTING) if isinstance(company.settings, Mapping) else None
    text = template.get(key) if isinstance(template, Mapping) else None
    return text if isinstance(text, str) and text.strip() and len(text) <= max_length else default


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def share_email_values(*, action_company: ActionCompany, lead: Lead, url: str) -> dict[str, str]:
    """What each placeholder stands for (a lead without a first name is greeted as "there")."""
    return {
        "first_name": lead.first_name.strip() or "there",
        "last_name": lead.last_name.strip(),
        "full_name": lead.full_name,
        "action_name": action_company.name,
        "company_name": action_company.company.name,
        "link": url,
    }


def share_email_build(
    *, action_company: ActionCompany, lead: Lead, url: str, unsubscribe_url: str
) -> EmailMultiAlternatives:
    """The email to the lead: the filled-in template as text and as HTML, the link always in it, an unsubscribe
    link at the foot and in List-Unsubscribe (one-click, RFC 8058), and a Message-ID of our own to record."""
    company = action_company.company
    values = share_email_values(action_company=action_company, lead=lead, url=url)
    subject = " ".join(_fill(_template(company, "subject", DEFAULT_SUBJECT, SUBJECT_MAX_LENGTH), values).split())
    body = _template(company, "body", DEFAULT_BODY, BODY_MAX_LENGTH)
    if "{link}" not in body:  # the email exists to carry the link
        body = f"{body.rstrip()}\n\n{{link}}\n"
    footer = UNSUBSCRIBE_FOOTER.replace("{company_name}", company.name).replace("{unsubscribe}", unsubscribe_url)
    text = f"{_fill(body, values).rstrip()}\n\n-- \n{footer}\n"

    # The HTML part: the template escaped first (placeholders have no character to escape), then escaped values,
    # the links as anchors.
    escaped = {name: html.escape(value) for name, value in values.items()}
    escaped["link"] = f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
    html_body = linebreaks(_fill(html.escape(body.strip()), escaped))
    html_footer = html.escape(UNSUBSCRIBE_FOOTER.replace("{company_name}", company.name)).replace(
        "{unsubscribe}", f'<a href="{html.escape(unsubscribe_url)}">{html.escape(unsubscribe_url)}</a>'
    )
    owner_email = lead.owner.email if lead.owner_id and lead.owner.email else None
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[lead.email],
        reply_to=[owner_email] if owner_email else None,
        headers={
            "Message-ID": make_msgid(domain=DNS_NAME),
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        f'<!doctype html>\n<html><body>\n{html_body}\n<hr>\n<p>{html_footer}</p>\n</body></html>\n', "text/html"
    )
    return message
