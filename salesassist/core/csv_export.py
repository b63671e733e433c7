"""CSV answers streamed row by row: memory stays flat however many rows a query has."""
import csv
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from .errors import problem_responses

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# A spreadsheet runs a cell that starts with one of these as a formula: such a cell is written after a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a streamed export sends at a time.
CSV_CHUNK_BYTES = 64 * 1024


class _Line:
    """A file-like object whose write() returns what it was given, so csv.writer makes strings, not files."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    """A value as a cell: nothing for None, JSON's spelling for booleans, lists and objects."""
    if value is None:
        return ""
    if isinstance(value, (bool, dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = value if isinstance(value, str) else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(*, header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header, then each row, as CSV lines (RFC 4180: quoted where needed, CRLF line ends)."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def _chunks(lines: Iterable[str], *, size: int = CSV_CHUNK_BYTES) -> Iterator[bytes]:
    """The lines, encoded and joined into chunks of about `size` bytes: the server writes a chunk at a time,
    not a row at a time, and memory holds one chunk."""
    buffer: list[bytes] = []
    length = 0
    for line in lines:
        data = line.encode()
        buffer.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield b"".join(buffer)


def csv_streaming_response(*, filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A download of the rows as CSV, sent while they are read."""
    response = StreamingHttpResponse(_chunks(csv_lines(header=header, rows=rows)), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_export_schema(*, operation_id: str, summary: str, description: str, tag: str, rows: str, example: tuple):
    """The OpenAPI operation of a list's CSV export: the list's filters, a text/csv answer described as `rows`
    with one (name, text) example, and the problems every export may answer."""
    name, text = example
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=[tag],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description=rows, examples=[OpenApiExample(name, value=text)]
            ),
            **problem_responses(400, 401, 403),
        },
    )
