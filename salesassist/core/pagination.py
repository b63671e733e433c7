"""Pagination: page numbers for small lists, cursors for history that grows without bound."""
from rest_framework import exceptions, pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (at most 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view=view)
        except exceptions.NotFound as exc:
            # DRF answers 404 for page=0, page=abc or a page past the end; like a mangled cursor, that is
            # the client's query (400, as every list documents), not a missing resource.
            raise exceptions.ValidationError({self.page_query_param: [str(exc.detail)]}) from exc


class CursorPagination(pagination.CursorPagination):
    """Newest first; a cursor keeps each page one indexed range scan however deep the history.

    No COUNT(*): the answer has `next` and `previous` links only, so a page never scans the history.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            # A cursor is something the client sent us: a mangled one is bad input, not a missing page.
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc
