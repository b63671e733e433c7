"""Products admin: a product with its variants; SKU clashes are form errors."""
import pytest
from django.urls import reverse

from products.models import Product
from tests.products.factories import ProductFactory

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
