"""A lead's unsubscribe from the emails sent to them: the signed link's token and the unsubscribe itself."""
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_hosts.resolvers import reverse

from salesassist.core.exceptions import NotFound
from salesassist.hosts import DEFAULT as DEFAULT_HOST

from ..events import lead_updated
from ..models import Lead

LEAD_UNSUBSCRIBE_SALT = "crm.lead_unsubscribe"


def lead_unsubscribe_token(*, lead: Lead) -> str:
    """The token of the lead's unsubscribe link: an HMAC of its uuid (SECRET_KEY). It never expires, as an
    unsubscribe link in an old email must still work."""
    return signing.Signer(salt=LEAD_UNSUBSCRIBE_SALT).signature(str(lead.uuid))


def lead_unsubscribe_url(*, lead: Lead) -> str:
    """The lead's unsubscribe page (crm/pages.py) on the default host, with its token: for the emails we send."""
    scheme = f"{settings.PUBLIC_URL_SCHEME}://"
    url = reverse("lead_unsubscribe", kwargs={"lead_uuid": lead.uuid}, host=DEFAULT_HOST, scheme=scheme)
    return f"{url}?{urlencode({'token': lead_unsubscribe_token(lead=lead)})}"


def lead_unsubscribe_link_check(*, lead_uuid, token: str) -> Lead:
    """The lead an unsubscribe link is for. A wrong token and an unknown lead are the same NotFound, so the
    link tells nothing about leads it was not made for."""
    lead = Lead.all_objects.filter(uuid=lead_uuid).first()
    if lead is None or not constant_time_compare(token or "", lead_unsubscribe_token(lead=lead)):
        raise NotFound("This unsubscribe link is not valid.")
    return lead


def lead_unsubscribe(*, lead_uuid, token: str) -> Lead:
    """Mark the lead of a valid unsubscribe link unsubscribed, and emit lead_updated (`unsubscribed_at`) so the
    company's other tools stop mailing them too; again is a no-op with no event (the first time is kept)."""
    lead = lead_unsubscribe_link_check(lead_uuid=lead_uuid, token=token)
    now = timezone.now()
    with transaction.atomic():
        # A conditional update, so two clicks at once keep the first time and emit once.
        marked = Lead.all_objects.filter(pk=lead.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, updated_at=now
        )
        lead.refresh_from_db(fields=["unsubscribed_at", "updated_at"])
        if marked:
            lead_updated.emit(lead=lead, changed=["unsubscribed_at"])
    return lead
