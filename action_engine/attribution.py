"""Attribution: where a lead came from, as the page saw it (utm_* of the page URL, the referrer, the landing URL).

Each engagement keeps the attribution its request carried in `Engagement.meta` under these very keys (the
board and the funnel read `meta["utm_source"]`); a visitor keeps the first one it ever carried in
`Visitor.first_touch`, set once and never overwritten.
"""
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
URL_KEYS = ("referrer", "landing_url")
ATTRIBUTION_KEYS = (*UTM_KEYS, *URL_KEYS)
UTM_MAX_LENGTH = 200  # LeadActionState.utm_source holds this many
URL_MAX_LENGTH = 2000
# An absolute http(s) URL as browsers give it (location.href, document.referrer: ASCII, percent-encoded): a
# host name or IPv4 address, an optional port, then any printable ASCII. No user info: browsers strip it from
# referrers, and a landing URL never needs it. The OpenAPI schema shows this same pattern.
URL_PATTERN = r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#][!-~]*)?$"
# Query parameters never kept in a stored URL: the share link's signed token is a credential.
SECRET_QUERY_PARAMETERS = frozenset({"token"})


def attribution_url_valid(value: str) -> bool:
    """Whether `value` is a URL attribution may keep (URL_PATTERN, matched whole: no trailing newline)."""
    return len(value) <= URL_MAX_LENGTH and re.fullmatch(URL_PATTERN.strip("^$"), value) is not None


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if name not in SECRET_QUERY_PARAMETERS]
    if len(kept) == len(query):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def attribution_meta(attribution: dict | None) -> dict:
    """The attribution to store: the known keys with a value, the link's token taken out of its URLs."""
    meta = {}
    for key in ATTRIBUTION_KEYS:
        value = (attribution or {}).get(key)
        if isinstance(value, str) and value:
            meta[key] = _without_secrets(value) if key in URL_KEYS else value
    return meta
