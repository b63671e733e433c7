"""Leads in bulk on the CRM API: an upload of CSV or JSON lines, stored first, imported row by row."""
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.auth import request_company
from crm.models import LeadReceiver
from crm.services import LEAD_IMPORT_CONTENT_TYPES, LEAD_IMPORT_MAX_ROWS, lead_import_process, lead_import_store
from salesassist.core.api import UuidField
from salesassist.core.errors import problem_response, problem_responses
from salesassist.core.exceptions import InvalidInput
from salesassist.core.parsers import CsvParser, JsonLinesParser
from salesassist.core.throttling import body_within_limit, client_ip
from salesassist.core.uuids import CANONICAL_UUID_MESSAGE, canonical_uuid

ROW_OUTCOMES = ("created", "updated", "unchanged", "error")


class LeadImportQuerySerializer(serializers.Serializer):
    receiver = UuidField(required=False, help_text="A lead receiver of the company whose template maps the rows.")


class LeadImportRowSerializer(serializers.Serializer):
    """What one row did."""

    row = serializers.IntegerField(help_text="The row's number, from 1 (a CSV's header row is not counted).")
    outcome = serializers.ChoiceField(choices=ROW_OUTCOMES)
    lead = UuidField(source="lead.uuid", allow_null=True, default=None)
    problems = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Per field, why the row was refused."
    )


class LeadImportedSerializer(serializers.Serializer):
    """The stored upload and what each of its rows did."""

    uuid = UuidField(source="lead_import.uuid", help_text="The stored upload's uuid.")
    created = serializers.IntegerField(source="lead_import.created_count")
    updated = serializers.IntegerField(source="lead_import.updated_count")
    unchanged = serializers.IntegerField(source="lead_import.unchanged_count")
    errors = serializers.IntegerField(source="lead_import.error_count")
    results = LeadImportRowSerializer(source="rows", many=True)


CSV_EXAMPLE = "email,first_name,last_name,phone,company_size\nada@example.com,Ada,Lovelace,+44 20 7946 0000,50\n"
JSON_LINES_EXAMPLE = '{"email": "ada@example.com", "first_name": "Ada"}\n{"phone": "+1 555 0100"}\n'


class LeadImportView(APIView):
    """Create or update many leads in one call."""

    parser_classes = [CsvParser, JsonLinesParser]

    @extend_schema(
        operation_id="leads_import",
        summary="Import leads from CSV or JSON lines",
        description=(
            f"Up to {LEAD_IMPORT_MAX_ROWS} rows a call, as `text/csv` (a header row, then one lead a row) or "
            "`application/x-ndjson` (one JSON object a line). The upload is stored first, like any inbound call. "
            "Each row is mapped like a lead receiver's call: by the template of the lead receiver named in "
            "`receiver` (dot paths per lead field, defaults, unmapped keys into custom_fields; its source and "
            "default owner), or, without one, each column at its own name (`first_name`, `last_name`, `email`, "
            "`phone`, `status`, `source`) and the rest into custom_fields. A lead of the company with the same "
            "normalized email or phone is updated, or left as it is when the row changes nothing. Every row gets "
            "its result: `created`, `updated`, `unchanged`, or `error` with its problems per field; a row in "
            "error does not stop the others. Needs a read-write key."
        ),
        tags=["leads"],
        parameters=[LeadImportQuerySerializer],
        request={
            "text/csv": OpenApiTypes.STR,
            "application/x-ndjson": OpenApiTypes.STR,
        },
        examples=[
            OpenApiExample("CSV", value=CSV_EXAMPLE, request_only=True, media_type="text/csv"),
            OpenApiExample("JSON lines", value=JSON_LINES_EXAMPLE, request_only=True, media_type="application/x-ndjson"),
        ],
        responses={
            200: OpenApiResponse(
                LeadImportedSerializer,
                examples=[
                    OpenApiExample(
                        "Two rows",
                        value={
                            "uuid": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
                            "created": 1,
                            "updated": 0,
                            "unchanged": 0,
                            "errors": 1,
                            "results": [
                                {"row": 1, "outcome": "created", "lead": "3f8e1c2a-5b7d-4e9f-8a1b-2c3d4e5f6a7b", "problems": {}},
                                {"row": 2, "outcome": "error", "lead": None, "problems": {"phone": ["Enter a phone number of 5 to 20 digits."]}},
                            ],
                        },
                        response_only=True,
                    )
                ],
            ),
            **problem_responses(
                401,
                _400="The body is not CSV or JSON lines, or `receiver` is not a lead receiver of the company.",
                _403="The key is read-only, or does not belong to an active company.",
                _413="The body is larger than LEAD_IMPORT_MAX_BYTES (16 MB by default).",
                _415="The body is neither text/csv nor application/x-ndjson.",
                _422=f"More than {LEAD_IMPORT_MAX_ROWS} rows.",
            ),
        },
    )
    def post(self, request):
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        raw = body_within_limit(request, limit=settings.LEAD_IMPORT_MAX_BYTES)
        if not media_type and not raw:
            raise InvalidInput("The body is empty: send CSV or JSON lines.", errors={"body": ["This field is required."]})
        if media_type not in LEAD_IMPORT_CONTENT_TYPES:
            raise UnsupportedMediaType(media_type)
        company = request_company(request)
        receiver = None
        if "receiver" in request.query_params:
            # Read by hand: a serializer would take an empty `?receiver=` for no receiver at all.
            receiver_uuid = canonical_uuid(request.query_params["receiver"])
            if receiver_uuid is None:
                raise InvalidInput("The receiver is not a uuid.", errors={"receiver": [CANONICAL_UUID_MESSAGE]})
            receiver = LeadReceiver.objects.filter(company=company, uuid=receiver_uuid).first()
            if receiver is None:
                raise InvalidInput("No such lead receiver.", errors={"receiver": ["Not a lead receiver of this company."]})
        lead_import = lead_import_store(
            company=company,
            receiver=receiver,
            content_type=media_type,
            headers=dict(request.headers),
            body=raw.decode("utf-8", errors="replace"),
            source_ip=client_ip(request),
        )
        imported = lead_import_process(lead_import=lead_import)
        if imported.error is not None:
            return problem_response(imported.error, lead_import=str(lead_import.uuid))
        return Response(LeadImportedSerializer(imported).data)
