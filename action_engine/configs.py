"""A company action's configuration as the hot path reads it, cached per process (salesassist/core/config.py).

An engagement needs the company action with its action, system, type and company (the company's settings:
link tokens, CORS origins), and the modules its system validates a result against (forms, published
products with their variants, published content). Every model these come from is a configuration model
(its writes bump the configuration version), so the cache is reloaded on the request after any change.

The cached values are shared by the process's threads: the modules are frozen values, and the company action
(a model instance graph) is handed out as a fresh copy per call.
"""
import json
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from uuid import UUID

from salesassist.core.config import ConfigCache, model_graph_copy

from .choices import ModuleKind
from .models import ActionCompany, ActionCompanySystemModule


@dataclass(frozen=True)
class FormModule:
    """A form the page shows: its uuid and its JSON Schema, serialized once (sorted keys)."""

    uuid: UUID
    schema_json: str


@dataclass(frozen=True)
class VariantModule:
    uuid: UUID
    product_uuid: UUID
    name: str
    sku: str
    price: Decimal


@dataclass(frozen=True)
class ProductModule:
    uuid: UUID
    name: str
    sku: str
    price: Decimal
    currency: str


@dataclass(frozen=True)
class ContentModule:
    uuid: UUID
    title: str
    kind: str
    url: str


@dataclass(frozen=True)
class ActionCompanyConfig:
    """One company action and what its page validates against, as of one configuration version."""

    shared_action_company: ActionCompany
    forms: tuple[FormModule, ...]
    products: MappingProxyType  # product uuid -> ProductModule (published, not deleted)
    variants: MappingProxyType  # variant uuid -> VariantModule (of those products)
    contents: MappingProxyType  # content uuid -> ContentModule (published, not deleted)

    def action_company(self) -> ActionCompany:
        """The company action (with action, system, type and company loaded), the caller's own copy."""
        return model_graph_copy(self.shared_action_company)

    @property
    def is_public(self) -> bool:
        """May pages use it: active, published, its catalogue entry published, its company active."""
        action_company = self.shared_action_company
        action = action_company.action
        return (
            action_company.deleted_at is None
            and action_company.is_active
            and action_company.is_published
            and action.deleted_at is None
            and action.is_published
            and action_company.company.is_active
        )


def _config_load(action_uuid) -> ActionCompanyConfig | None:
    found = list(
        ActionCompany.all_objects.select_related("action__system", "action__type", "company")
        .filter(uuid=action_uuid)
        .order_by()[:1]
    )
    if not found:
        return None
    action_company = found[0]
    modules = (
        ActionCompanySystemModule.objects.filter(action_company=action_company)
        .select_related("form", "product", "content")
        .prefetch_related("product__variants")
        .order_by("position", "id")
    )
    forms, products, variants, contents = [], {}, {}, {}
    for module in modules:
        if module.kind == ModuleKind.FORM and module.form.deleted_at is None:
            forms.append(FormModule(uuid=module.form.uuid, schema_json=json.dumps(module.form.schema, sort_keys=True)))
        elif module.kind == ModuleKind.PRODUCT and module.product.deleted_at is None and module.product.is_published:
            product = module.product
            products[product.uuid] = ProductModule(
                uuid=product.uuid, name=product.name, sku=product.sku, price=product.price, currency=product.currency
            )
            for variant in product.variants.all():
                variants[variant.uuid] = VariantModule(
                    uuid=variant.uuid,
                    product_uuid=product.uuid,
                    name=str(variant),
                    sku=variant.sku,
                    price=variant.price,
                )
        elif module.kind == ModuleKind.CONTENT and module.content.deleted_at is None and module.content.is_published:
            content = module.content
            contents[content.uuid] = ContentModule(
                uuid=content.uuid, title=content.title, kind=content.kind, url=content.url
            )
    return ActionCompanyConfig(
        shared_action_company=action_company,
        forms=tuple(forms),
        products=MappingProxyType(products),
        variants=MappingProxyType(variants),
        contents=MappingProxyType(contents),
    )


_configs = ConfigCache(_config_load)


def action_company_config(*, action_uuid) -> ActionCompanyConfig | None:
    """The company action with this uuid and its modules (deleted, inactive or not: see `is_public`); None
    for none. Unknown uuids are not cached: every such request reads again."""
    return _configs.get(action_uuid)


def action_company_config_peek(*, action_uuid) -> ActionCompanyConfig | None:
    """What this process cached for the action, of whatever version: only a guess (e.g. of its company)."""
    return _configs.peek(action_uuid)
