"""Sharing a company action with a lead: the signed link, its lifetime and its check, and its email."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django_hosts.resolvers import reverse

from action_engine.choices import ShareChannel, Stage
from action_engine.errors import ActionEngineError
from action_engine.models import ActionCompany, Engagement
from crm.models import Company, Lead, Visitor
from crm.services import lead_unsubscribe_url
from salesassist.core.exceptions import Conflict, NotFound, PermissionDenied, Unavailable, Unprocessable
from salesassist.hosts import DEFAULT as DEFAULT_HOST

from .engagements import engagement_record
from .share_email import share_email_build

ACTION_LINK_SALT = "action_engine.action_link"
# The longest a company may make its links live: ten years (and far from datetime's limits).
ACTION_LINK_TTL_MAX_DAYS = 3650


def action_link_ttl(*, company: Company) -> timedelta:
    """How long a shared link stays valid: the company's settings["link_ttl_days"] (at most ten years),
    else the default."""
    days = company.settings.get("link_ttl_days") if isinstance(company.settings, dict) else None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        days = settings.ACTION_LINK_TTL_DAYS
    return timedelta(days=min(days, ACTION_LINK_TTL_MAX_DAYS))


def action_link_sign(*, action_company: ActionCompany, lead: Lead, visitor: Visitor, expires_at: datetime) -> str:
    """A token binding the action, lead and visitor uuids until `expires_at`, signed with SECRET_KEY."""
    payload = {
        "a": str(action_company.uuid),
        "l": str(lead.uuid),
        "v": str(visitor.uuid),
        "e": int(expires_at.timestamp()),
    }
    return signing.dumps(payload, salt=ACTION_LINK_SALT, compress=True)


def action_link_token_required(*, company: Company) -> bool:
    """Whether the company's public calls need the link's token: yes, unless it turned tokens off."""
    return not (isinstance(company.settings, dict) and company.settings.get("require_link_token") is False)


def action_link_check(*, action_company: ActionCompany, lead_uuid, visitor_uuid, token: str) -> None:
    """PermissionDenied unless the token is valid for these uuids, or absent where the company allows it.

    Closed by default: a token is required unless the company turned it off with
    settings["require_link_token"] set to exactly false (a missing key, null or any other value keeps it
    on). A token that is sent is always checked, so a wrong one never passes silently.
    """
    if not token:
        if action_link_token_required(company=action_company.company):
            raise PermissionDenied("This action needs the link's token.", code=ActionEngineError.TOKEN_REQUIRED)
        return
    try:
        payload = signing.loads(token, salt=ACTION_LINK_SALT)
    except signing.BadSignature as exc:
        raise PermissionDenied("The link's token is invalid.", code=ActionEngineError.TOKEN_INVALID) from exc
    expected = {"a": str(action_company.uuid), "l": str(lead_uuid), "v": str(visitor_uuid) if visitor_uuid else None}
    if not isinstance(payload, dict) or any(payload.get(key) != value for key, value in expected.items()):
        raise PermissionDenied(
            "The link's token is for another action, lead or visitor.", code=ActionEngineError.TOKEN_INVALID
        )
    if not isinstance(payload.get("e"), int) or payload["e"] < timezone.now().timestamp():
        raise PermissionDenied("The link has expired; ask for a new one.", code=ActionEngineError.TOKEN_EXPIRED)


def action_link_url(*, action_company: ActionCompany, lead: Lead, visitor: Visitor, token: str) -> str:
    """Our reference page on the default host, or the company's own page base URL when it set one."""
    params = {"lead": str(lead.uuid), "visitor": str(visitor.uuid), "token": token}
    if action_company.page_url:
        parts = urlsplit(action_company.page_url)
        query = [*parse_qsl(parts.query, keep_blank_values=True), ("action", str(action_company.uuid)), *params.items()]
        return urlunsplit(parts._replace(query=urlencode(query)))
    url = reverse(
        "action_page",
        kwargs={"action_uuid": action_company.uuid},
        host=DEFAULT_HOST,
        scheme=f"{settings.PUBLIC_URL_SCHEME}://",
    )
    return f"{url}?{urlencode(params)}"


def action_share_email_check(*, lead: Lead) -> None:
    """Refuse to email a lead who unsubscribed (409) or has no email address (422)."""
    if lead.unsubscribed_at is not None:
        raise Conflict(
            "The lead unsubscribed from emails; share the link another way.", code=ActionEngineError.LEAD_UNSUBSCRIBED
        )
    if not lead.email:
        raise Unprocessable(
            "The lead has no email address; share the link another way.", code=ActionEngineError.LEAD_WITHOUT_EMAIL
        )


@dataclass(frozen=True)
class ActionShared:
    """What sharing an action with a lead produced."""

    url: str
    visitor: Visitor
    engagement: Engagement
    expires_at: datetime
    channel: ShareChannel
    email_message_id: str | None = None


def action_company_share(
    *, action_company: ActionCompany, lead: Lead, channel: ShareChannel = ShareChannel.LINK
) -> ActionShared:
    """A new visitor for the lead, a `sent` engagement and the signed link: returned for the rep to send
    (`link`), or emailed to the lead with the company's template (`email`). The engagement's meta records
    the channel, and the email's Message-ID."""
    if lead.company_id != action_company.company_id:
        raise NotFound("No such lead.")
    expires_at = timezone.now() + action_link_ttl(company=action_company.company)
    with transaction.atomic():
        if channel == ShareChannel.EMAIL:
            # Read under the lead's lock: an unsubscribe at this moment waits for this share, or this share sees it.
            action_share_email_check(
                lead=Lead.objects.select_for_update().only("email", "unsubscribed_at").get(pk=lead.pk)
            )
        # Every share gets its own visitor: the link identifies one delivery of it, one browser.
        visitor = Visitor.objects.create(company_id=lead.company_id, lead=lead)
        # Signed inside the transaction: if building the link fails, no visitor or `sent` is left behind.
        token = action_link_sign(action_company=action_company, lead=lead, visitor=visitor, expires_at=expires_at)
        url = action_link_url(action_company=action_company, lead=lead, visitor=visitor, token=token)
        email = None
        meta = {"channel": str(channel)}
        if channel == ShareChannel.EMAIL:
            email = share_email_build(
                action_company=action_company, lead=lead, url=url, unsubscribe_url=lead_unsubscribe_url(lead=lead)
            )
            meta["email_message_id"] = email.extra_headers["Message-ID"]
        recorded = engagement_record(
            action_company=action_company, lead=lead, visitor=visitor, stage=Stage.SENT, meta=meta
        )
        if email is not None:
            # Sent last, inside the transaction: an email the server refused leaves no `sent` behind (a failure
            # of the commit itself after the send is the one case that would leave an email without its record).
            _share_email_send(email)
    return ActionShared(
        url=url,
        visitor=visitor,
        engagement=recorded.engagement,
        expires_at=expires_at,
        channel=channel,
        email_message_id=meta.get("email_message_id"),
    )


def _share_email_send(email) -> None:
    try:
        email.connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
        email.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and TLS errors alike: the lead got nothing, the share did not happen
        raise Unavailable(
            "The email server did not take the email; nothing was recorded. Try again later.",
            code=ActionEngineError.EMAIL_NOT_SENT,
        ) from exc

