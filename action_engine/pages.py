"""The reference action page on the default host: a Django template and plain JavaScript.

The page is a thin shell; its script reads the action's data from the public API on the action
engine host and posts `opened` and the result stage there (CORS allows the default host's origin).
"""

from django.conf import settings
from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from salesassist.hosts import ACTION_ENGINE_API, API_SUBDOMAINS


def public_api_origin(request) -> str:
    """The action engine API's origin as seen from this request: same scheme and port, the API's host name."""
    host = request.get_host()
    _, _, port = host.rpartition(":") if ":" in host else ("", "", "")
    port_part = f":{port}" if port else ""
    return f"{request.scheme}://{API_SUBDOMAINS[ACTION_ENGINE_API]}.{settings.PARENT_HOST}{port_part}"


@method_decorator(never_cache, name="dispatch")
class ActionPageView(TemplateView):
    """`/a/<action uuid>/?lead=&visitor=&token=`: renders a form, products or content from the API."""

    template_name = "action_page/page.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        if not params.get("lead"):
            raise Http404("This link is incomplete.")
        context.update(
            action_uuid=str(kwargs["action_uuid"]),
            lead=params.get("lead", ""),
            visitor=params.get("visitor", ""),
            token=params.get("token", ""),
            api_base=f"{public_api_origin(self.request)}/v1",
        )
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # The page's script calls the API on another host: the Content-Security-Policy lets it reach that
        # origin alone (django-csp adds a response's `_csp_update` to the policy, as its csp_update does).
        response._csp_update = {"connect-src": [public_api_origin(self.request)]}
        return response
