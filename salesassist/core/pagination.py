"""Pagination: page numbers for small lists, cursors for history that grows without bound.

The query parameters are strict, and their OpenAPI description says so (schemathesis checks both agree):
`page` is an integer from 1, `page_size` one from 1 to `max_page_size`, `cursor` a non-empty token.
Anything else is a 400; a page past the end of the list is a 404 (the page does not exist).
"""
from rest_framework import exceptions, pagination


def _query_integer(request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    """The integer query parameter `name`, None when absent; 400 when empty, not an integer or out of range."""
    if name not in request.query_params:
        return None
    raw = request.query_params[name]
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["A whole number is required."]}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise exceptions.ValidationError({name: [f"Must be {bounds}."]})
    return value


class StrictPageSizeMixin:
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        page_size = _query_integer(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return self.page_size if page_size is None else page_size

    def page_size_parameter_schema(self) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": self.max_page_size}

    def get_paginated_response_schema(self, schema):
        # DRF writes OpenAPI 3.0's `nullable: true` on next/previous; the schemas are OpenAPI 3.1, where
        # `nullable` means nothing and null is one of the types.
        paged = super().get_paginated_response_schema(schema)
        for field in paged["properties"].values():
            # drf-spectacular passes a placeholder object, not a schema, when it builds a listed example.
            if isinstance(field, dict) and field.pop("nullable", False):
                field["type"] = [field["type"], "null"]
        return paged


class PageNumberPagination(StrictPageSizeMixin, pagination.PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (1 to 200)."""

    page_size = 50
    last_page_strings = ()  # `page` is a number, as its schema says: no "last"

    def get_page_number(self, request, paginator):
        page = _query_integer(request, self.page_query_param, minimum=1)
        return 1 if page is None else page

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = self.page_size_parameter_schema()
        return parameters


class CursorPagination(StrictPageSizeMixin, pagination.CursorPagination):
    """Newest first; a cursor keeps each page one indexed range scan however deep the history.

    No COUNT(*): the answer has `next` and `previous` links only, so a page never scans the history.
    """

    page_size = 50
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            # A cursor is something the client sent us: a mangled one is bad input, not a missing page.
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                # An empty cursor= is refused like any mangled one.
                parameter["schema"] = {"type": "string", "minLength": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = self.page_size_parameter_schema()
        return parameters
