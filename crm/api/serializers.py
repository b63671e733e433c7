"""Serializers of the CRM API: module-level, uniquely named (they are OpenAPI component names)."""
from django.contrib.auth import get_user_model
from rest_framework import serializers

from crm.auth import request_company
from crm.models import Company, Lead, LeadReceiver, Visitor
from salesassist.core.api import StrictModelSerializer, StrictSerializer

# The public lead receiver path, pinned by the issue (the public-flow routes serve it).
LEAD_RECEIVER_PATH = "/v1/receivers/{uuid}/leads"


class CompanyMemberField(serializers.SlugRelatedField):
    """A staff user named by username, chosen among the members of the caller's company."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self):
        company = request_company(self.context["request"])
        return get_user_model().objects.filter(memberships__company=company, is_active=True)


class CompanySerializer(serializers.ModelSerializer):
    """The caller's company."""

    class Meta:
        model = Company
        fields = ["uuid", "name", "slug", "is_active", "settings", "created_at", "updated_at"]
        read_only_fields = fields


class LeadSerializer(StrictModelSerializer):
    """A lead. Email and phone are unique (normalized) among the company's alive leads."""

    owner = CompanyMemberField(
        required=False, allow_null=True, help_text="Username of a staff member of the company, or null."
    )
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "uuid",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "owner",
            "status",
            "source",
            "custom_fields",
            "unsubscribed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "unsubscribed_at", "created_at", "updated_at"]
        extra_kwargs = {
            "unsubscribed_at": {"help_text": "When the lead unsubscribed from our emails (their link), or null."}
        }

    def validate_custom_fields(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def validate(self, attrs):
        names = ("first_name", "last_name", "email", "phone")
        merged = {name: attrs.get(name, getattr(self.instance, name, "")) for name in names}
        if not any(merged.values()):
            raise serializers.ValidationError("A lead needs at least a name, an email or a phone.")
        return attrs


class VisitorSerializer(serializers.ModelSerializer):
    """A browser identity, linked to a lead once known."""

    lead = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Visitor
        fields = ["uuid", "lead", "first_seen_at", "last_seen_at", "user_agent", "created_at"]
        read_only_fields = fields


class LeadReceiverSerializer(StrictModelSerializer):
    """An inbound URL where a third party posts leads, with its field mapping."""

    default_owner = CompanyMemberField(
        required=False, allow_null=True, help_text="Username of the staff member who owns the leads it creates."
    )
    url = serializers.SerializerMethodField(help_text="Where the third party posts leads (no API key).")
    has_secret = serializers.SerializerMethodField(
        help_text="Calls must carry a Standard Webhooks signature (set with rotate-secret)."
    )

    class Meta:
        model = LeadReceiver
        fields = [
            "uuid",
            "name",
            "template",
            "default_owner",
            "source",
            "is_active",
            "url",
            "has_secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def get_has_secret(self, receiver: LeadReceiver) -> bool:
        return bool(receiver.secret)

    def validate_template(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def get_url(self, receiver: LeadReceiver) -> str:
        path = LEAD_RECEIVER_PATH.format(uuid=receiver.uuid)
        request = self.context.get("request")
        # The receiver is served on the host this API answers on.
        return request.build_absolute_uri(path) if request is not None else path


class LeadReceiverSecretSetSerializer(StrictSerializer):
    """A new signing secret for a lead receiver (generated, or your own), or none: calls need not be signed."""

    generate_secret = serializers.BooleanField(
        default=False, help_text="Make a new whsec_ secret; calls must then be signed (Standard Webhooks)."
    )
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Your own whsec_ secret instead of a generated one; neither means calls need not be signed.",
    )


class LeadReceiverSecretSerializer(LeadReceiverSerializer):
    """A lead receiver whose secret just changed; `secret` is shown this once."""

    secret = serializers.CharField(read_only=True, help_text="The whsec_ secret, shown only now; empty if none.")

    class Meta(LeadReceiverSerializer.Meta):
        fields = [*LeadReceiverSerializer.Meta.fields, "secret"]
        read_only_fields = fields
