"""Serializers of the action engine API: module-level, uniquely named (they are OpenAPI component names)."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from action_engine.choices import ModuleKind, Stage
from action_engine.models import (
    Action,
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionDataType,
    ActionSystem,
    ActionType,
    Engagement,
    Form,
)
from action_engine.selectors import actions_visible_to
from action_engine.systems import system_spec
from crm.auth import request_company
from salesassist.core.api import StrictModelSerializer, StrictSerializer, UuidField, UuidRelatedField
from salesassist.core.positions import MAX_POSITION

# The public receiver path, pinned by the issue (the public-flow routes serve it).
RECEIVER_PATH = "/v1/receivers/{uuid}"


def _json_object(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must be a JSON object.")
    return value


# --- The catalogue ----------------------------------------------------------------------------------


class ActionTypeSerializer(serializers.ModelSerializer):
    """What kind of action an action is (product, document, form, commerce…)."""

    class Meta:
        model = ActionType
        fields = ["uuid", "slug", "name", "description"]
        read_only_fields = fields


class PipelineField(serializers.ListField):
    """The ordered stages of the action system whose slug is the source."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=Stage.choices), read_only=True, **kwargs)

    def to_representation(self, slug):
        return super().to_representation([str(stage) for stage in system_spec(slug).pipeline])


class ActionSystemSerializer(serializers.ModelSerializer):
    """An action system, with its ordered stage pipeline and the module kinds its pages show."""

    pipeline = PipelineField(source="slug")
    result_stage = serializers.SerializerMethodField()
    module_kinds = serializers.SerializerMethodField()

    class Meta:
        model = ActionSystem
        fields = ["uuid", "slug", "name", "description", "pipeline", "result_stage", "module_kinds"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Stage.choices))
    def get_result_stage(self, system: ActionSystem) -> str:
        return str(system_spec(system.slug).result_stage)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ModuleKind.choices)))
    def get_module_kinds(self, system: ActionSystem) -> list[str]:
        return sorted(str(kind) for kind in system_spec(system.slug).module_kinds)


class ActionDataTypeSerializer(serializers.ModelSerializer):
    """The data an action works on (product, content)."""

    class Meta:
        model = ActionDataType
        fields = ["uuid", "slug", "name"]
        read_only_fields = fields


class ActionSerializer(StrictModelSerializer):
    """A catalogue action. Global ones (`is_global`) are read-only; a company writes only its own."""

    type = UuidRelatedField(queryset=ActionType.objects.all(), help_text="An action type's uuid.")
    system = UuidRelatedField(queryset=ActionSystem.objects.all(), help_text="An action system's uuid.")
    data_type = UuidRelatedField(
        queryset=ActionDataType.objects.all(), required=False, allow_null=True, help_text="An action data type's uuid."
    )
    is_global = serializers.SerializerMethodField(help_text="A SalesAssist catalogue entry every company sees.")

    class Meta:
        model = Action
        fields = [
            "uuid",
            "name",
            "slug",
            "description",
            "type",
            "system",
            "data_type",
            "config",
            "is_published",
            "is_global",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def get_is_global(self, action: Action) -> bool:
        return action.company_id is None

    def validate_config(self, value):
        return _json_object(value)


# --- Company actions --------------------------------------------------------------------------------


class VisibleActionField(UuidRelatedField):
    """A catalogue action the caller may use: a published global one or one of its own."""

    def get_queryset(self):
        return actions_visible_to(company=request_company(self.context["request"]))


class CompanyActionSerializer(StrictModelSerializer):
    """A company's instance of a catalogue action; its uuid is the action uuid pages send."""

    action = VisibleActionField(help_text="The catalogue action's uuid; fixed once created.")
    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the action's name.")
    system = serializers.CharField(source="action.system.slug", read_only=True)
    pipeline = PipelineField(source="action.system.slug")
    receiver = serializers.SerializerMethodField(help_text="The uuid of the active receiver, if any.")

    class Meta:
        model = ActionCompany
        fields = [
            "uuid",
            "action",
            "name",
            "description",
            "config",
            "is_active",
            "is_published",
            "page_url",
            "system",
            "pipeline",
            "receiver",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def validate_action(self, value):
        if self.instance is not None and value.pk != self.instance.action_id:
            raise serializers.ValidationError("The action of a company action cannot change.")
        return value

    def validate_config(self, value):
        return _json_object(value)

    @extend_schema_field(UuidField(allow_null=True))
    def get_receiver(self, action_company: ActionCompany):
        active = [receiver for receiver in action_company.receivers.all() if receiver.is_active]
        return str(active[0].uuid) if active else None


class CompanyActionReceiverSerializer(serializers.ModelSerializer):
    """A company action's inbound URL for third parties. Only the newest one is active."""

    url = serializers.SerializerMethodField(help_text="Where the third party posts results (no API key).")
    has_secret = serializers.SerializerMethodField(help_text="Calls must carry a Standard Webhooks signature.")
    # Declared, not generated: a generated read-only field drops allow_blank and the schema would omit "".
    default_stage = serializers.ChoiceField(
        choices=Stage.choices,
        allow_blank=True,
        read_only=True,
        help_text="The stage of calls that name none; empty if none.",
    )

    class Meta:
        model = ActionCompanyReceiver
        fields = ["uuid", "url", "is_active", "has_secret", "mapping", "default_stage", "created_at"]
        read_only_fields = fields

    def get_url(self, receiver: ActionCompanyReceiver) -> str:
        path = RECEIVER_PATH.format(uuid=receiver.uuid)
        request = self.context.get("request")
        # The receiver is served on the host this API answers on.
        return request.build_absolute_uri(path) if request is not None else path

    def get_has_secret(self, receiver: ActionCompanyReceiver) -> bool:
        return bool(receiver.secret)


class CompanyActionReceiverCreatedSerializer(CompanyActionReceiverSerializer):
    """A new receiver; `secret` is shown this once."""

    secret = serializers.CharField(read_only=True, help_text="The whsec_ secret, shown only now; empty if none.")

    class Meta(CompanyActionReceiverSerializer.Meta):
        fields = [*CompanyActionReceiverSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class CompanyActionReceiverRotateSerializer(StrictSerializer):
    """Rotate the receiver: a new active one replaces the current one, which stops accepting calls."""

    generate_secret = serializers.BooleanField(
        default=False, help_text="Make a new whsec_ secret; calls must then be signed (Standard Webhooks)."
    )
    secret = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Your own whsec_ secret instead of a generated one."
    )
    mapping = serializers.JSONField(
        required=False, help_text="Dot paths for lead, visitor, stage and message; defaults to the current mapping."
    )
    default_stage = serializers.ChoiceField(
        choices=Stage.choices, required=False, allow_blank=True, help_text="Defaults to the current default stage."
    )

    def validate_mapping(self, value):
        return _json_object(value)

    def validate(self, attrs):
        if attrs.get("generate_secret") and attrs.get("secret"):
            raise serializers.ValidationError({"secret": ["Give a secret or generate_secret, not both."]})
        return attrs


class CompanyActionModuleSerializer(serializers.ModelSerializer):
    """A product, content or form shown on a company action's page, at its position."""

    target = serializers.SerializerMethodField(help_text="The uuid of the product, content or form.")
    target_name = serializers.SerializerMethodField(help_text="Its name or title.")

    class Meta:
        model = ActionCompanySystemModule
        fields = ["uuid", "kind", "target", "target_name", "position", "created_at"]
        read_only_fields = fields

    @extend_schema_field(UuidField())
    def get_target(self, module: ActionCompanySystemModule) -> str:
        return str(module.target.uuid)

    def get_target_name(self, module: ActionCompanySystemModule) -> str:
        target = module.target
        return getattr(target, "name", None) or getattr(target, "title", "")


class CompanyActionModuleAttachSerializer(StrictSerializer):
    """Show a product, content or form of the company on the action's page."""

    kind = serializers.ChoiceField(choices=ModuleKind.choices, help_text="Must be one the action's system shows.")
    target = UuidField(help_text="The uuid of the company's product, content or form.")
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_POSITION, required=False, help_text="Defaults to after the last one."
    )


class CompanyActionModuleReorderSerializer(StrictSerializer):
    """The modules' uuids in their new order; every module exactly once."""

    modules = serializers.ListField(child=UuidField(), allow_empty=True)


# --- Forms and engagements --------------------------------------------------------------------------


class FormSerializer(StrictModelSerializer):
    """A form as JSON Schema (draft 2020-12, type object); a forms action page renders it."""

    schema = serializers.JSONField(help_text='A JSON Schema (draft 2020-12) with "type": "object".')

    class Meta:
        model = Form
        fields = [
            "uuid",
            "name",
            "description",
            "schema",
            "submit_label",
            "success_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]


class EngagementSerializer(serializers.ModelSerializer):
    """One stage a lead reached on a company action, with the message of the result."""

    action = UuidField(source="action_company.uuid", read_only=True, help_text="The company action.")
    action_name = serializers.CharField(source="action_company.name", read_only=True)
    lead = UuidField(source="lead.uuid", read_only=True)
    visitor = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    receiver = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    # Declared, not generated: a generated read-only field drops allow_blank and the schema would omit "".
    previous_stage = serializers.ChoiceField(
        choices=Stage.choices, allow_blank=True, read_only=True, help_text="The stage before this one; empty if none."
    )
    message = serializers.SerializerMethodField(help_text="The JSON body of the result, or null.")

    class Meta:
        model = Engagement
        fields = [
            "uuid",
            "action",
            "action_name",
            "lead",
            "visitor",
            "receiver",
            "stage",
            "previous_stage",
            "message",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_message(self, engagement: Engagement):
        return engagement.message.body if engagement.message_id else None

