from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from products.choices import ContentKind
from products.models import Content, Product, Variant
from tests.crm.factories import CompanyFactory


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    price = Decimal("19.90")
    currency = "USD"


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Variant {n}")
    sku = factory.Sequence(lambda n: f"VAR-{n}")
    price = Decimal("24.90")


class ContentFactory(DjangoModelFactory):
    class Meta:
        model = Content

    company = factory.SubFactory(CompanyFactory)
    title = factory.Sequence(lambda n: f"Content {n}")
    kind = ContentKind.DOCUMENT
    url = factory.Sequence(lambda n: f"https://example.com/docs/{n}.pdf")
