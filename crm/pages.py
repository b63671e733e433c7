"""The lead's unsubscribe page on the default host: the link in every email sent to a lead.

Opening the link (GET) only asks; mail scanners and link previews open links too. The button, or a mail
client's one-click unsubscribe (RFC 8058: a POST of `List-Unsubscribe=One-Click` to the same URL), does it.
The signed token in the link is what guards it, so the POST needs no CSRF token (a mail client has none).
"""
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from salesassist.core.exceptions import NotFound

from .services import lead_unsubscribe, lead_unsubscribe_link_check

TEMPLATE = "crm/unsubscribe.html"


@method_decorator([never_cache, csrf_exempt], name="dispatch")
class LeadUnsubscribeView(View):
    """`/u/<lead uuid>/?token=`: GET asks to confirm, POST unsubscribes (again: the same answer)."""

    def get(self, request, lead_uuid):
        token = request.GET.get("token", "")
        try:
            lead = lead_unsubscribe_link_check(lead_uuid=lead_uuid, token=token)
        except NotFound:
            return render(request, TEMPLATE, {"state": "invalid"}, status=404)
        return render(request, TEMPLATE, {"state": "done" if lead.unsubscribed_at else "ask", "token": token})

    def post(self, request, lead_uuid):
        try:
            lead_unsubscribe(lead_uuid=lead_uuid, token=request.GET.get("token", ""))
        except NotFound:
            return render(request, TEMPLATE, {"state": "invalid"}, status=404)
        return render(request, TEMPLATE, {"state": "done"})
