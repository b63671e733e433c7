"""Products admin: a product with its variants; SKU clashes are form errors; writes go through the services."""
import pytest
from django.urls import reverse

from action_engine.choices import ModuleKind
from products.models import Content, Product
from products.services import variant_create
from salesassist.core.exceptions import InvalidInput
from tests.action_engine.factories import ModuleFactory
from tests.products.factories import ContentFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _product_form(company, **fields):
    return {
        "company": company.pk,
        "name": "Logo T-shirt",
        "sku": "TEE",
        "price": "25.00",
        "currency": "EUR",
        "attributes": "{}",
        "is_published": "on",
        "variants-TOTAL_FORMS": 2,
        "variants-INITIAL_FORMS": 0,
        "variants-0-name": "Small",
        "variants-0-sku": "TEE-S",
        "variants-0-price": "25.00",
        "variants-0-attributes": "{}",
        "variants-1-name": "Large",
        "variants-1-sku": "TEE-L",
        "variants-1-price": "27.00",
        "variants-1-attributes": "{}",
        **fields,
    }


def test_adding_a_product_with_variants(admin_client, company):
    response = admin_client.post(reverse("admin:products_product_add"), _product_form(company))
    assert response.status_code == 302
    product = Product.objects.get(company=company, sku="TEE")
    assert sorted(product.variants.values_list("sku", flat=True)) == ["TEE-L", "TEE-S"]


def test_a_duplicate_sku_is_a_form_error_until_the_first_is_deleted(admin_client, company):
    existing = ProductFactory(company=company, sku="TEE")
    response = admin_client.post(reverse("admin:products_product_add"), _product_form(company))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"sku": ["This company already has a product with this SKU."]}
    existing.delete()
    assert admin_client.post(reverse("admin:products_product_add"), _product_form(company)).status_code == 302


def test_a_negative_price_is_a_form_error(admin_client, company):
    response = admin_client.post(reverse("admin:products_product_add"), _product_form(company, price="-1"))
    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors


def test_two_variants_with_the_same_sku_are_a_form_error(admin_client, company):
    response = admin_client.post(
        reverse("admin:products_product_add"), _product_form(company, **{"variants-1-sku": "TEE-S"})
    )
    assert response.status_code == 200
    (variants,) = response.context["inline_admin_formsets"]
    assert variants.formset.errors == [{}, {"sku": ["Another row has the same value."]}]
    assert not Product.objects.filter(company=company).exists()


def test_variants_are_changed_added_and_removed_on_the_product_page(admin_client, company):
    product = ProductFactory(company=company, sku="TEE")
    kept, removed = VariantFactory(product=product, sku="TEE-S"), VariantFactory(product=product, sku="TEE-L")
    data = _product_form(
        company,
        **{
            "variants-INITIAL_FORMS": 2,
            "variants-TOTAL_FORMS": 3,
            "variants-0-id": kept.pk,
            "variants-0-product": product.pk,
            "variants-0-name": "Small",
            "variants-0-sku": "TEE-XS",
            "variants-0-price": "24.00",
            "variants-0-attributes": "{}",
            "variants-1-id": removed.pk,
            "variants-1-product": product.pk,
            "variants-1-name": "Large",
            "variants-1-sku": "TEE-L",
            "variants-1-price": "27.00",
            "variants-1-attributes": "{}",
            "variants-1-DELETE": "on",
            "variants-2-name": "Medium",
            "variants-2-sku": "TEE-M",
            "variants-2-price": "26.00",
            "variants-2-attributes": "{}",
        },
    )
    response = admin_client.post(reverse("admin:products_product_change", args=[product.pk]), data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert sorted(product.variants.values_list("sku", flat=True)) == ["TEE-M", "TEE-XS"]
    assert product.variants.get(sku="TEE-XS").pk == kept.pk


@pytest.mark.parametrize(
    ("kind", "factory", "message"),
    [
        (ModuleKind.PRODUCT, ProductFactory, "The product is shown by company actions"),
        (ModuleKind.CONTENT, ContentFactory, "The content is shown by company actions"),
    ],
)
def test_what_a_page_shows_is_not_deleted_in_admin(admin_client, kind, factory, message):
    """The engine's answer to product_deleting / content_deleting, as the API's 409."""
    shown, other = getattr(ModuleFactory(kind=kind), kind), factory()
    model_name = factory._meta.model._meta.model_name
    page = admin_client.post(reverse(f"admin:products_{model_name}_delete", args=[shown.pk]), {"post": "yes"})
    assert page.status_code == 200
    assert message in page.content.decode()
    bulk = {"action": "delete_selected", "_selected_action": [shown.pk, other.pk], "post": "yes"}
    assert admin_client.post(reverse(f"admin:products_{model_name}_changelist"), bulk).status_code == 200
    assert factory._meta.model.objects.filter(pk__in=[shown.pk, other.pk]).count() == 2


def test_content_without_a_url_a_body_or_a_file_is_a_form_error(admin_client, company):
    response = admin_client.post(
        reverse("admin:products_content_add"),
        {"company": company.pk, "title": "Empty", "kind": "document", "url": "", "body": "", "is_published": "on"},
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"url", "body"}
    assert not Content.objects.exists()


def test_variant_create_refuses_a_sku_another_variant_of_the_product_has(company):
    product = ProductFactory(company=company)
    variant_create(product=product, name="Small", sku="S", price="10.00")
    with pytest.raises(InvalidInput) as refused:
        variant_create(product=product, name="Also small", sku="S", price="11.00")
    assert refused.value.errors == {"sku": ["Another variant has this SKU."]}
