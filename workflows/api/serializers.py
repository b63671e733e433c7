"""Serializers of the workflows API: module-level, uniquely named; services do the validating and writing."""
from rest_framework import serializers

from action_engine.choices import Stage
from crm.api.tenancy import CompanyUuidRelatedField
from salesassist.core.api import StrictModelSerializer, StrictSerializer, UuidField
from salesassist.core.positions import MAX_POSITION

from ..choices import AttemptError, DeliveryStatus, WorkflowEvent, WorkflowKind
from ..event_types import EVENT_TYPES
from ..models import Delivery, DeliveryAttempt, Workflow

CONFIG_HELP = (
    'Per kind. webhook: {"url": "https://…", "headers": {"X-Name": "value"}} — the URL must reach a public '
    'address. email: {"recipients": ["ops@example.com", "lead_owner"], "subject": "optional"}. '
    'slack: {"url": "<Slack incoming-webhook URL>", "text": "{{ data.lead.email }} submitted", "blocks": [optional]}. '
    'http: {"url": "https://…", "method": "POST" | "PUT" | "PATCH", "headers": {…}, "template": <any JSON>} — '
    'the template is sent as JSON; a string "{{ <dot path> }}" becomes the event\'s value there (its own type), '
    'placeholders inside other text become text. Dot paths read the event payload: type, timestamp, '
    'data.engagement…, data.lead…, data.company_action…, data.message…; `$` is the whole payload.'
)
CONDITIONS_HELP = (
    'Every condition must hold: [{"field": "stage" | "previous_stage" | "message.<dot path>", '
    '"op": "equals" | "not_equals" | "in" | "contains" | "exists" | "not_exists", "value": …}].'
)


class WorkflowSerializer(StrictModelSerializer):
    """A workflow as the API shows it: never its signing secret."""

    kind = serializers.ChoiceField(choices=WorkflowKind.choices, help_text="Cannot be changed after creation.")
    config = serializers.DictField(help_text=CONFIG_HELP)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WorkflowEvent.choices),
        required=False,
        min_length=1,
        help_text='The event types it subscribes to (docs/webhooks.md); default ["engagement.*"], every engagement '
        "event its stages allow. Lead and delivery.dead events come from the company's own rows.",
    )
    stages = serializers.ListField(
        child=serializers.ChoiceField(choices=Stage.choices),
        required=False,
        help_text="The stages of the engagement events it fires on; empty means every stage.",
    )
    conditions = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=20, help_text=CONDITIONS_HELP
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Setting it true again also lifts an automatic pause or a 410's disabling."
    )
    secret_rotation_ends_at = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        allow_null=True,
        help_text="Until then deliveries also carry a signature made with the previous secret.",
    )

    class Meta:
        model = Workflow
        fields = [
            "uuid",
            "name",
            "kind",
            "config",
            "events",
            "stages",
            "conditions",
            "is_active",
            "paused_at",
            "pause_reason",
            "failing_since",
            "secret_rotation_ends_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "paused_at", "pause_reason", "failing_since", "created_at", "updated_at"]


class WorkflowCreatedSerializer(WorkflowSerializer):
    """A workflow just created: the only answer that carries its signing secret."""

    secret = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The whsec_ signing secret of a webhook or http workflow, shown this once (null for other kinds).",
    )

    class Meta(WorkflowSerializer.Meta):
        fields = [*WorkflowSerializer.Meta.fields, "secret"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["secret"] = instance.secret or None
        return data


class WorkflowSecretSerializer(serializers.Serializer):
    """A new signing secret, shown this once."""

    secret = serializers.CharField(help_text="The new whsec_ secret; it signs from now on.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the previous secret signs too (a second signature)."
    )


class WorkflowRecoverSerializer(StrictSerializer):
    """Which failed and dead deliveries to attempt again."""

    since = serializers.DateTimeField(help_text="Deliveries created at or after this time.")


class WorkflowRecoveredSerializer(serializers.Serializer):
    """How many deliveries were queued for one manual attempt each."""

    since = serializers.DateTimeField()
    queued = serializers.IntegerField(help_text="Failed and dead deliveries queued for one manual attempt each.")


class WorkflowTestInputSerializer(StrictSerializer):
    """Options of a test send."""

    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="An engagement sample at this stage; default: the workflow's first stage.",
    )
    event_type = serializers.ChoiceField(
        choices=[(name, name) for name in EVENT_TYPES],
        required=False,
        help_text="A sample of this event type (then stage does not matter); default: an engagement if the "
        "workflow subscribes to engagement events, else its first event type.",
    )


class WorkflowTestResponseSerializer(serializers.Serializer):
    """What the target answered to a test send."""

    status = serializers.IntegerField(allow_null=True)
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.CharField(help_text="At most 16 KB of the answer.")


class WorkflowTestErrorSerializer(serializers.Serializer):
    """Why a test send failed."""

    error_class = serializers.ChoiceField(choices=AttemptError.choices)
    message = serializers.CharField()


class WorkflowTestResultSerializer(serializers.Serializer):
    """The exact request a test send made and what came back. Nothing is stored."""

    succeeded = serializers.BooleanField()
    request = serializers.DictField(
        help_text="webhook, http, slack: method, url (a Slack URL's secret path redacted), headers (the real "
        "signature; credentials such as Authorization redacted) and the rendered body. email: to, subject, body."
    )
    response = WorkflowTestResponseSerializer(allow_null=True)
    error = WorkflowTestErrorSerializer(allow_null=True)
    duration_ms = serializers.IntegerField()

    def to_representation(self, outcome):
        return {
            "succeeded": outcome.succeeded,
            "request": outcome.exact_request,
            "response": (
                {"status": outcome.response_status, "headers": outcome.response_headers, "body": outcome.response_body}
                if outcome.response_status is not None or outcome.response_body
                else None
            ),
            "error": (
                None if outcome.succeeded else {"error_class": outcome.error_class, "message": outcome.error_message}
            ),
            "duration_ms": outcome.duration_ms,
        }


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    """One try of a delivery: the request (signature redacted) and what came back."""

    error_class = serializers.ChoiceField(choices=AttemptError.choices, allow_blank=True, read_only=True)

    class Meta:
        model = DeliveryAttempt
        fields = [
            "uuid",
            "number",
            "is_manual",
            "created_at",
            "succeeded",
            "request_url",
            "request_headers",
            "request_body",
            "response_status",
            "response_headers",
            "response_body",
            "duration_ms",
            "error_class",
            "error_message",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    """One event sent by one workflow, with its retry state."""

    workflow = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    event_type = serializers.CharField(read_only=True, help_text="The event's type (docs/webhooks.md).")
    engagement = serializers.SlugRelatedField(
        slug_field="uuid", read_only=True, allow_null=True, help_text="The engagement of an engagement event."
    )
    lead = serializers.SlugRelatedField(
        slug_field="uuid", read_only=True, allow_null=True, help_text="The lead the event is about, if any."
    )
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        read_only=True,
        help_text="pending: not tried yet; succeeded; failed: will retry at next_attempt_at; dead: no more retries.",
    )
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "uuid",
            "workflow",
            "event_type",
            "engagement",
            "lead",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "succeeded_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    """A delivery with every attempt, oldest first."""

    attempts = DeliveryAttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts"]
        read_only_fields = fields


# --- Workflows linked to actions ------------------------------------------------------------------


class WorkflowLinkSerializer(serializers.Serializer):
    """A workflow attached to an action or a company action, at its position."""

    workflow = UuidField(source="workflow.uuid")
    name = serializers.CharField(source="workflow.name")
    kind = serializers.CharField(source="workflow.kind")
    is_active = serializers.BooleanField(source="workflow.is_active")
    position = serializers.IntegerField()


class WorkflowAttachSerializer(StrictSerializer):
    """Attach one of the company's workflows."""

    workflow = CompanyUuidRelatedField(queryset=Workflow.objects.all(), help_text="The uuid of a company workflow.")
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_POSITION, required=False, help_text="Defaults to after the last one."
    )


class WorkflowReorderSerializer(StrictSerializer):
    """The attached workflows' uuids in their new order; every attached one exactly once."""

    workflows = serializers.ListField(child=UuidField(), allow_empty=True)
