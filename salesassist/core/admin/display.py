"""Read-only display of values on admin pages."""
import json

from django.utils.html import format_html
from django_hosts.resolvers import reverse as host_reverse


def host_url_link(view_name: str, host: str, **kwargs) -> str:
    """A link to a URL of another host (an API's public receiver URL, say).

    It is scheme-relative ("//api.example.com/…"): the browser completes it with the scheme the
    admin is served on, so "copy link" gives the full URL to hand to a third party.
    """
    url = host_reverse(view_name, host=host, kwargs=kwargs)
    return format_html('<a href="{}">{}</a>', url, url.removeprefix("//"))


def pretty_json(value) -> str:
    """JSON indented inside <pre>, for read-only display of bodies and payloads."""
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, sort_keys=True))
