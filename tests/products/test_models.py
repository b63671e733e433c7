"""PIM constraints hold in the database itself."""
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.products.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_a_product_price_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(price=Decimal("-0.01"))
    assert ProductFactory(price=Decimal("0")).price == 0


def test_a_variant_price_cannot_be_negative():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(product=product, price=Decimal("-1"))
    assert VariantFactory(product=product, price=Decimal("0")).price == 0


def test_product_sku_is_unique_per_company_among_live_products(company, other_company):
    ProductFactory(company=company, sku="TEE-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(company=company, sku="TEE-1")
    ProductFactory(company=other_company, sku="TEE-1")
    ProductFactory(company=company, sku="")
    ProductFactory(company=company, sku="")


def test_a_deleted_product_frees_its_sku(company):
    ProductFactory(company=company, sku="TEE-1").delete()
    assert ProductFactory(company=company, sku="TEE-1").sku == "TEE-1"


def test_variant_sku_is_unique_per_product():
    product, other = ProductFactory(), ProductFactory()
    VariantFactory(product=product, sku="TEE-1-S")
    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(product=product, sku="TEE-1-S")
    VariantFactory(product=other, sku="TEE-1-S")
