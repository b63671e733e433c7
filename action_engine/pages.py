"""What the default host serves action pages: the reference page, the content pages show, the page SDK.

The reference page is a thin shell; its script reads the action's data from the public API on the action
engine host and posts `opened` and the result stage there through the page SDK (CORS allows the default
host's origin). The SDK (`/sdk/salesassist.js`) does the same for pages on any origin a company allows.
"""

import hashlib
import mimetypes
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_safe
from django.views.generic import TemplateView

from action_engine.selectors import public_action_content_get
from salesassist.core.exceptions import NotFound
from salesassist.hosts import ACTION_ENGINE_API, API_SUBDOMAINS

SDK_FILE = Path(__file__).parent / "static" / "sdk" / "salesassist.js"
# Pages load the SDK by a fixed URL, so it cannot be cached for good: an hour, then revalidated by its ETag.
SDK_MAX_AGE_SECONDS = 3600


@cache
def _sdk_source() -> tuple[bytes, str]:
    source = SDK_FILE.read_bytes()
    return source, hashlib.sha256(source).hexdigest()[:32]


@require_safe
@condition(etag_func=lambda request: _sdk_source()[1])
def sdk_script(request):
    """`/sdk/salesassist.js`: the page SDK (docs/sdk.md), for pages on any origin to load with a script tag."""
    source, _ = _sdk_source()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    patch_cache_control(response, public=True, max_age=SDK_MAX_AGE_SECONDS)
    # Pages on other origins may load it with crossorigin (and Subresource Integrity): it holds no secret.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _origin_on(request, host_name: str) -> str:
    """`host_name`'s origin as seen from this request: the same scheme and port."""
    host = request.get_host()
    _, _, port = host.rpartition(":") if ":" in host else ("", "", "")
    port_part = f":{port}" if port else ""
    return f"{request.scheme}://{host_name}{port_part}"


def public_api_origin(request) -> str:
    """The action engine API's origin as seen from this request: same scheme and port, the API's host name."""
    return _origin_on(request, f"{API_SUBDOMAINS[ACTION_ENGINE_API]}.{settings.PARENT_HOST}")


def default_host_origin(request) -> str:
    """The default host's origin (the reference page, articles) as seen from a request to any host."""
    return _origin_on(request, settings.PARENT_HOST)


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


@method_decorator(never_cache, name="dispatch")
class ActionContentView(TemplateView):
    """`/a/<action uuid>/content/<content uuid>/`: content that a published action shows and the engine serves
    itself (action_engine.selectors.content_served_here). An uploaded file is sent as it is (`?download`: as an
    attachment); an article is a page to read (`?download`: a text file)."""

    template_name = "action_page/article.html"

    def get(self, request, *args, **kwargs):
        try:
            content = public_action_content_get(action_uuid=kwargs["action_uuid"], content_uuid=kwargs["content_uuid"])
        except NotFound as exc:  # the default host answers HTML: Django's 404 page
            raise Http404(str(exc)) from exc
        download = "download" in request.GET
        if content.file:
            return _uploaded_file_response(content, as_attachment=download)
        if download:
            response = HttpResponse(f"{content.title}\n\n{content.body}\n", content_type="text/plain; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{slugify(content.title) or "article"}.txt"'
            return response
        return self.render_to_response(self.get_context_data(content=content))


# Uploads a browser may show in the page (`Open`): documents, pictures, video and sound that run no script.
# Anything else (HTML, SVG, unknown) is only ever sent as an attachment, so a company's upload can never run
# as a page on this host, the admin's origin.
INLINE_CONTENT_TYPES = ("application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif", "image/webp")
INLINE_CONTENT_PREFIXES = ("video/", "audio/")


def _uploaded_file_response(content, *, as_attachment: bool) -> FileResponse:
    name = Path(content.file.name).name
    content_type, _ = mimetypes.guess_type(name)
    shown = content_type in INLINE_CONTENT_TYPES or (content_type or "").startswith(INLINE_CONTENT_PREFIXES)
    try:
        opened = content.file.open("rb")
    except FileNotFoundError as exc:  # the row outlived its file (storage emptied or moved)
        raise Http404("This content's file is missing.") from exc
    if not shown:
        return FileResponse(opened, as_attachment=True, filename=name, content_type="application/octet-stream")
    return FileResponse(opened, as_attachment=as_attachment, filename=name, content_type=content_type)
