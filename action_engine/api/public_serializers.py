"""Serializers of the public flow: action pages, engagements, receivers, share links and funnels."""

from zoneinfo import available_timezones

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from action_engine.attribution import URL_MAX_LENGTH, URL_PATTERN, UTM_MAX_LENGTH, attribution_url_valid
from action_engine.choices import FunnelBucket, ModuleKind, ShareChannel, Stage
from salesassist.core.api import JsonTypesMixin, QuerySerializer, StrictSerializer, UuidField
from salesassist.core.inbound.models import InboundOutcome

IDEMPOTENCY_KEY_MAX_LENGTH = 150


class JsonObjectField(serializers.JSONField):
    """A JSON object (not a list, string or number)."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


# --- Action page data -----------------------------------------------------------------------------


class PublicActionPageQuerySerializer(serializers.Serializer):
    """The query string of an action page's data request: who is looking, and the link's token."""

    lead = UuidField(help_text="The lead the link was sent to.")
    visitor = UuidField(help_text="The browser's visitor uuid, from the link.")
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The link's token; required unless the company turned tokens off.",
    )


class PublicActionSerializer(serializers.Serializer):
    """The company action as a page shows it."""

    uuid = UuidField()
    name = serializers.CharField()
    description = serializers.CharField()
    config = serializers.JSONField()
    action_type = serializers.CharField(help_text="The action type's slug (form, commerce, document…).")
    system = serializers.CharField(help_text="The action system's slug: forms, commerce or content.")
    pipeline = serializers.ListField(child=serializers.ChoiceField(choices=Stage.choices))
    result_stage = serializers.ChoiceField(choices=Stage.choices, help_text="The stage the page posts as its result.")


class PublicVariantSerializer(serializers.Serializer):
    """A variant of a product on an action page."""

    uuid = UuidField()
    name = serializers.CharField()
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    attributes = serializers.JSONField()


class PublicModuleSerializer(serializers.Serializer):
    """One thing the page shows, in order. Fields depend on `kind` (product, content or form)."""

    kind = serializers.ChoiceField(choices=ModuleKind.choices)
    uuid = UuidField()
    # product
    name = serializers.CharField(required=False, help_text="Product or form name.")
    sku = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, coerce_to_string=True)
    currency = serializers.CharField(required=False)
    attributes = serializers.JSONField(required=False)
    variants = PublicVariantSerializer(many=True, required=False)
    # content
    title = serializers.CharField(required=False)
    content_kind = serializers.CharField(required=False)
    url = serializers.CharField(required=False, help_text="Where to open the content; the engine serves articles.")
    download_url = serializers.CharField(required=False, help_text="Where to download it.")
    body = serializers.CharField(required=False)
    # form
    schema = serializers.JSONField(required=False, help_text="The form's JSON Schema (draft 2020-12).")
    submit_label = serializers.CharField(required=False)
    success_message = serializers.CharField(required=False)


class PublicLeadSerializer(serializers.Serializer):
    """What a page may know about its lead: the first name, the stage reached on this action and the values the
    company lets the page prefill."""

    first_name = serializers.CharField()
    stage = serializers.CharField(help_text="The furthest stage reached on this action; empty if none.")
    prefill = serializers.DictField(
        child=serializers.CharField(),
        help_text="The lead's values for the fields the company action's config[\"prefill\"] lists (first_name, "
        "last_name, name, email, phone); empty unless it lists some.",
    )


class PublicActionPageSerializer(serializers.Serializer):
    """Everything an action page needs to render."""

    action = PublicActionSerializer()
    modules = PublicModuleSerializer(many=True)
    lead = PublicLeadSerializer()


# --- Engagements ----------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "maxLength": URL_MAX_LENGTH, "pattern": URL_PATTERN})
class AttributionUrlField(serializers.CharField):
    """An absolute http(s) URL, as a browser gives it (action_engine/attribution.py: URL_PATTERN)."""

    default_error_messages = {"invalid_url": "Must be an absolute http(s) URL of printable ASCII characters."}

    def __init__(self, **kwargs):
        # Not trimmed: the schema's pattern refuses spaces, so must the server.
        super().__init__(max_length=URL_MAX_LENGTH, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not attribution_url_valid(value):
            self.fail("invalid_url")
        return value


def _utm_field(help_text: str):
    return serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX_LENGTH, help_text=help_text)


class AttributionSerializer(StrictSerializer):
    """Where the lead came from, as the page saw it: its URL's utm_* parameters, the referrer, the landing URL.

    Kept on the engagement (`meta`) and, the first time a visitor carries any, as the visitor's first touch.
    """

    utm_source = _utm_field("The page URL's utm_source, e.g. newsletter.")
    utm_medium = _utm_field("The page URL's utm_medium, e.g. email.")
    utm_campaign = _utm_field("The page URL's utm_campaign.")
    utm_term = _utm_field("The page URL's utm_term.")
    utm_content = _utm_field("The page URL's utm_content.")
    referrer = AttributionUrlField(required=False, help_text="document.referrer, when there is one.")
    landing_url = AttributionUrlField(
        required=False, help_text="The URL the page was opened at; its `token` parameter is never stored."
    )


class PublicEngagementCreateSerializer(JsonTypesMixin, serializers.Serializer):
    """A stage a lead reached on an action page, with the result's message."""

    action = UuidField(help_text="The company action's uuid.")
    lead = UuidField()
    visitor = UuidField(help_text="The browser's visitor uuid; created and linked on first sight.")
    stage = serializers.ChoiceField(choices=Stage.choices)
    message = JsonObjectField(required=False, default=dict, help_text="The result: form data, cart, download.")
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The link's token; required unless the company turned tokens off.",
    )
    submission_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        help_text="A client-made id of this submission; the Idempotency-Key header does the same.",
    )
    honeypot = serializers.CharField(
        required=False, allow_blank=True, help_text="Must stay empty: only bots fill it, and are dropped."
    )
    attribution = AttributionSerializer(
        required=False, help_text="utm_* of the page URL, referrer and landing URL; unknown keys are refused."
    )


DATE_TIME = serializers.DateTimeField()  # a date-time as every answer spells it (REST_FRAMEWORK settings)


class EngagementRecordedSerializer(serializers.Serializer):
    """The engagement just recorded (or recorded before under the same idempotency key)."""

    uuid = UuidField(source="engagement.uuid")
    action = UuidField(source="engagement.action_company.uuid")
    lead = UuidField(source="engagement.lead.uuid")
    visitor = UuidField(source="engagement.visitor.uuid", allow_null=True, default=None)
    stage = serializers.ChoiceField(choices=Stage.choices, source="engagement.stage")
    previous_stage = serializers.CharField(
        source="engagement.previous_stage", help_text="The lead's furthest stage before this one; empty if none."
    )
    current_stage = serializers.ChoiceField(
        choices=Stage.choices, help_text="The lead's stage on the action now: never moved back."
    )
    message = UuidField(source="engagement.message.uuid", allow_null=True, default=None)
    created_at = serializers.DateTimeField(source="engagement.created_at")

    def to_representation(self, recorded):
        # Written out, as DRF's field-by-field answer would give it (a test holds the two equal): this answers
        # every engagement, and that answer deep-copies each declared field first, a tenth of a request's time.
        # The fields above stay the schema.
        engagement = recorded.engagement
        return {
            "uuid": str(engagement.uuid),
            "action": str(engagement.action_company.uuid),
            "lead": str(engagement.lead.uuid),
            "visitor": str(engagement.visitor.uuid) if engagement.visitor_id else None,
            "stage": engagement.stage,
            "previous_stage": engagement.previous_stage,
            "current_stage": recorded.current_stage,
            "message": str(engagement.message.uuid) if engagement.message_id else None,
            "created_at": DATE_TIME.to_representation(engagement.created_at),
        }


class HoneypotAcceptedSerializer(serializers.Serializer):
    """The answer a bot gets: accepted, and nothing recorded."""

    status = serializers.CharField()


# --- Receivers ------------------------------------------------------------------------------------


class ReceiverCallSerializer(serializers.Serializer):
    """A stored call to a company action receiver and what came of it."""

    uuid = UuidField()
    receiver = UuidField(source="receiver.uuid")
    outcome = serializers.ChoiceField(choices=InboundOutcome.choices)
    error = serializers.JSONField(allow_null=True)
    engagement = UuidField(source="engagement.uuid", allow_null=True, default=None)
    source_ip = serializers.IPAddressField(allow_null=True)
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)


class ReceiverCallRecordedSerializer(EngagementRecordedSerializer):
    """A receiver call that became an engagement."""

    receiver_call = UuidField(help_text="The stored call's uuid (for support and replay).")


# --- Share and funnel -----------------------------------------------------------------------------


class ActionShareCreateSerializer(StrictSerializer):
    """Which lead to send the action to, and how (an unknown key is a 400, as on every API-key write)."""

    lead = UuidField()
    channel = serializers.ChoiceField(
        choices=ShareChannel.choices,
        default=ShareChannel.LINK,
        help_text=(
            "`link`: the link is returned for you to send. `email`: we email it to the lead with the company's "
            'template (settings["share_email"]), with an unsubscribe link.'
        ),
    )


class ActionSharedSerializer(serializers.Serializer):
    """The link to send, and the visitor it identifies."""

    url = serializers.CharField(help_text="The action page URL with lead, visitor and the signed token.")
    visitor = UuidField(source="visitor.uuid")
    engagement = UuidField(source="engagement.uuid", help_text="The `sent` engagement.")
    expires_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=ShareChannel.choices)
    email_message_id = serializers.CharField(
        allow_null=True, help_text="The Message-ID of the email sent to the lead (channel `email`), else null."
    )


class DateOrDateTimeField(serializers.DateTimeField):
    """An ISO date ("2026-01-31", meaning its start) or date-time."""

    def to_internal_value(self, value):
        from datetime import date, datetime, time

        from django.utils import timezone

        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD or ISO 8601 date-time")
            return timezone.make_aware(datetime.combine(day, time.min))
        return super().to_internal_value(value)


# The IANA time zones this machine knows (tzdata), for a bucketed funnel's `tz`.
TIME_ZONES = sorted(available_timezones())


class FunnelQuerySerializer(QuerySerializer):
    """What a funnel counts: the leads that started on the action with since <= first_engaged_at < until."""

    since = DateOrDateTimeField(required=False, help_text="Leads that started at or after (a date is its start, UTC).")
    until = DateOrDateTimeField(required=False, help_text="Leads that started before.")
    bucket = serializers.ChoiceField(
        choices=FunnelBucket.choices,
        required=False,
        help_text="Also cut the range by the day, week (from Monday) or month each lead started, in `tz`.",
    )
    tz = serializers.ChoiceField(
        choices=TIME_ZONES,
        required=False,
        help_text="The IANA time zone of the buckets (default: the server's TIME_ZONE); unused without bucket.",
    )
    owner = serializers.CharField(required=False, help_text="Only the leads this user (username) owns.")
    source = serializers.CharField(
        required=False, allow_blank=True, help_text="Only the leads of this source (the lead's `source`; empty: none)."
    )
    utm_source = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Only the leads whose first touch on the action had this utm_source (empty: none).",
    )
    split = serializers.ChoiceField(
        choices=[("utm_source", "utm_source")],
        required=False,
        help_text="`utm_source`: also cut the range (or each bucket) by the first touch's utm_source.",
    )

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        attrs["split_by_utm_source"] = attrs.pop("split", None) == "utm_source"
        return attrs


class FunnelStageSerializer(serializers.Serializer):
    """Leads that reached a stage (or a later one), the share of the previous stage's, and how long it took."""

    stage = serializers.ChoiceField(choices=Stage.choices)
    leads = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="leads / the previous stage's leads.")
    median_seconds_from_previous = serializers.FloatField(
        allow_null=True,
        help_text="The median time from the previous stage to this one, over the leads with both times; null if none.",
    )


class FunnelBucketSerializer(serializers.Serializer):
    """The funnel of the leads that started in one bucket (and, split, with one utm_source)."""

    start = serializers.DateTimeField(
        allow_null=True, help_text="When the bucket starts (midnight of its first day in `tz`); null when not bucketed."
    )
    day = serializers.DateField(allow_null=True, help_text="The bucket's first day in `tz`; null when not bucketed.")
    utm_source = serializers.CharField(required=False, help_text="With split=utm_source: \"\" for none.")
    stages = FunnelStageSerializer(many=True)
    overall_conversion = serializers.FloatField(allow_null=True)


class FunnelSerializer(serializers.Serializer):
    """A company action's funnel over a date range, and per bucket when asked."""

    action = UuidField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    stages = FunnelStageSerializer(many=True)
    overall_conversion = serializers.FloatField(allow_null=True, help_text="The last stage's leads / the first's.")
    bucket = serializers.ChoiceField(choices=FunnelBucket.choices, allow_null=True, required=False)
    tz = serializers.CharField(required=False, help_text="The time zone of the buckets' starts.")
    buckets = FunnelBucketSerializer(
        many=True, required=False, help_text="With bucket or split: each non-empty bucket, oldest first."
    )
