"""Serializers of the products API: module-level, uniquely named (they are OpenAPI component names)."""
from django.core.validators import RegexValidator
from rest_framework import serializers

from products.models import Content, Product, Variant
from salesassist.core.api import StrictModelSerializer, UuidField


class VariantSerializer(StrictModelSerializer):
    """A variant of a product. In a product write, an item with a uuid updates that variant."""

    uuid = UuidField(required=False, help_text="Set to update an existing variant; omit to create one.")

    class Meta:
        model = Variant
        fields = ["uuid", "name", "sku", "price", "attributes"]

    def validate_attributes(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class ProductSerializer(StrictModelSerializer):
    """A product with its variants.

    Writing `variants` replaces the product's whole set: listed items with a `uuid` are updated,
    items without one are created, variants not listed are deleted. Leave `variants` out to keep them.
    """

    variants = VariantSerializer(many=True, required=False)
    currency = serializers.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code: three capital letters.")],
    )

    class Meta:
        model = Product
        fields = [
            "uuid",
            "name",
            "sku",
            "description",
            "price",
            "currency",
            "attributes",
            "is_published",
            "variants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def validate_attributes(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class ContentSerializer(StrictModelSerializer):
    """A document, video, article or link. Files are uploaded in admin; the API shows their URL."""

    file = serializers.FileField(read_only=True, use_url=True, allow_null=True)

    class Meta:
        model = Content
        fields = ["uuid", "title", "kind", "url", "body", "file", "is_published", "created_at", "updated_at"]
        read_only_fields = ["uuid", "file", "created_at", "updated_at"]
