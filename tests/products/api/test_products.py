"""api.products/v1/products and /v1/content: CRUD, nested variants (replace semantics), validation."""
from decimal import Decimal

import pytest

from action_engine.choices import ModuleKind
from products.models import Content, Product, Variant
from tests.action_engine.factories import ActionCompanyFactory, ActionFactory, ActionSystemFactory, ModuleFactory
from tests.products.factories import ContentFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_product_with_variants_create_read_list(products_api, company):
    response = products_api.post(
        "/v1/products/",
        {
            "name": "Chair",
            "sku": "CH-1",
            "price": "120.00",
            "currency": "EUR",
            "attributes": {"material": "oak"},
            "variants": [{"name": "Red", "sku": "CH-1-R", "price": "125.00"}, {"name": "Blue", "price": "120.00"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [v["name"] for v in body["variants"]] == ["Blue", "Red"]
    product = Product.objects.get(uuid=body["uuid"])
    assert product.company == company and product.variants.count() == 2

    detail = products_api.get(f"/v1/products/{product.uuid}")
    assert detail.json()["variants"][1]["sku"] == "CH-1-R"
    listing = products_api.get("/v1/products?currency=EUR&search=chair")
    assert listing.json()["count"] == 1


def test_writing_variants_replaces_the_set(products_api, company):
    product = ProductFactory(company=company)
    keep = VariantFactory(product=product, name="Keep", sku="K")
    drop = VariantFactory(product=product, name="Drop", sku="D")
    response = products_api.patch(
        f"/v1/products/{product.uuid}",
        {"variants": [{"uuid": str(keep.uuid), "price": "1.00"}, {"name": "New", "price": "2.00", "sku": "D"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert {v["name"] for v in response.json()["variants"]} == {"Keep", "New"}
    keep.refresh_from_db()
    assert keep.price == Decimal("1.00")
    assert not Variant.objects.filter(pk=drop.pk).exists()

    # Leaving `variants` out keeps them.
    response = products_api.patch(f"/v1/products/{product.uuid}", {"name": "Renamed"}, format="json")
    assert len(response.json()["variants"]) == 2


def test_a_new_variant_with_the_sku_a_kept_variant_keeps_is_a_field_error(products_api, company):
    product = ProductFactory(company=company)
    kept = VariantFactory(product=product, name="A", sku="X")
    response = products_api.patch(
        f"/v1/products/{product.uuid}",
        {"variants": [{"uuid": str(kept.uuid), "name": "A2"}, {"name": "B", "price": "1.00", "sku": "X"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"variants.1.sku": ["The same SKU as variant 0."]}
    kept.refresh_from_db()
    assert (kept.name, product.variants.count()) == ("A", 1)


def test_variant_of_another_product_cannot_be_taken_over(products_api, company):
    product = ProductFactory(company=company)
    foreign = VariantFactory(product=ProductFactory(company=company))
    response = products_api.patch(
        f"/v1/products/{product.uuid}", {"variants": [{"uuid": str(foreign.uuid), "name": "x"}]}, format="json"
    )
    assert response.status_code == 400
    assert "variants.0.uuid" in response.json()["errors"]
    foreign.refresh_from_db()
    assert foreign.product_id != product.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "P"}, "price"),
        ({"name": "P", "price": "-1"}, "price"),
        ({"name": "P", "price": "1", "currency": "euro"}, "currency"),
        ({"name": "x" * 201, "price": "1"}, "name"),
        ({"name": "P", "price": "1", "variants": [{"name": "V"}]}, "variants.0.price"),
        ({"name": "P", "price": "1", "variants": [{"name": "V", "price": "1", "colour": "red"}]}, "variants.0.colour"),
        (
            {"name": "P", "price": "1", "variants": [{"name": n, "price": "1", "sku": "S"} for n in "AB"]},
            "variants.1.sku",
        ),
        ({"name": "P", "price": "1", "stock": 3}, "stock"),
    ],
)
def test_product_validation(products_api, payload, field):
    response = products_api.post("/v1/products", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert Product.objects.count() == 0


def test_duplicate_sku_is_a_field_error(products_api, company):
    ProductFactory(company=company, sku="SAME")
    response = products_api.post("/v1/products", {"name": "P", "price": "1", "sku": "SAME"}, format="json")
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


def test_product_soft_delete_and_in_use_conflict(products_api, company):
    product = ProductFactory(company=company)
    assert products_api.delete(f"/v1/products/{product.uuid}").status_code == 204
    assert Product.all_objects.get(pk=product.pk).deleted_at is not None

    shown = ProductFactory(company=company)
    commerce = ActionFactory(system=ActionSystemFactory(slug="commerce"))
    action_company = ActionCompanyFactory(company=company, action=commerce)
    ModuleFactory(action_company=action_company, kind=ModuleKind.PRODUCT, product=shown)
    response = products_api.delete(f"/v1/products/{shown.uuid}")
    assert response.status_code == 409
    assert Product.objects.filter(pk=shown.pk).exists()


def test_content_crud_and_validation(products_api, company):
    created = products_api.post(
        "/v1/content", {"title": "Brochure", "kind": "document", "url": "https://example.com/b.pdf"}, format="json"
    )
    assert created.status_code == 201, created.json()
    content = Content.objects.get(uuid=created.json()["uuid"])
    assert content.company == company
    assert created.json()["file"] is None

    patched = products_api.patch(f"/v1/content/{content.uuid}/", {"kind": "article", "body": "Hello"}, format="json")
    assert patched.status_code == 200 and patched.json()["kind"] == "article"
    assert products_api.get("/v1/content?kind=article").json()["count"] == 1
    assert products_api.get("/v1/content?kind=podcast").status_code == 400

    for payload, field in [
        ({"title": "No body"}, "url"),
        ({"title": "T", "url": "not a url"}, "url"),
        ({"title": "T", "url": "https://e.com", "kind": "podcast"}, "kind"),
        ({"title": "T", "url": "https://e.com", "file": "x"}, "file"),
    ]:
        response = products_api.post("/v1/content", payload, format="json")
        assert response.status_code == 400, payload
        assert field in response.json()["errors"], (payload, response.json())

    assert products_api.delete(f"/v1/content/{content.uuid}").status_code == 204
    assert products_api.get(f"/v1/content/{content.uuid}").status_code == 404


def test_content_shown_by_an_action_cannot_be_deleted(products_api, company):
    content = ContentFactory(company=company)
    action = ActionFactory(system=ActionSystemFactory(slug="content"))
    action_company = ActionCompanyFactory(company=company, action=action)
    ModuleFactory(action_company=action_company, kind=ModuleKind.CONTENT, content=content)
    assert products_api.delete(f"/v1/content/{content.uuid}").status_code == 409
