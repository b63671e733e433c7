"""Read queries of the action engine domain."""
from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from crm.models import Lead
from products.models import Variant
from salesassist.core.exceptions import NotFound
from salesassist.core.json_schema import schema_pattern_errors

from .choices import ModuleKind
from .models import Action, ActionCompany, ActionCompanySystemModule, Engagement, Form, LeadActionState
from .systems import system_spec

# One answer for every reason a public action cannot be served, so a caller learns nothing from it.
PUBLIC_NOT_FOUND = "No such action."


def public_action_company_get(*, action_uuid, with_type: bool = False) -> ActionCompany:
    """An action that pages may use: active, published, its catalogue entry published, its company active.

    `with_type` also loads the action type (the page data shows it; recording an engagement does not).
    """
    related = ["action__system", "company", *(["action__type"] if with_type else [])]
    found = list(
        ActionCompany.objects.select_related(*related)
        .filter(
            uuid=action_uuid,
            is_active=True,
            is_published=True,
            action__deleted_at__isnull=True,
            action__is_published=True,
            company__is_active=True,
        )
        .order_by()[:1]
    )
    if not found:
        raise NotFound(PUBLIC_NOT_FOUND)
    return found[0]


def public_lead_get(*, action_company: ActionCompany, lead_uuid) -> Lead:
    """The lead, if it belongs to the action's company; the same 404 as an unknown action otherwise."""
    found = list(Lead.objects.filter(company_id=action_company.company_id, uuid=lead_uuid).order_by()[:1])
    if not found:
        raise NotFound(PUBLIC_NOT_FOUND)
    return found[0]


def lead_stage_on_action(*, action_company: ActionCompany, lead: Lead) -> str:
    """The furthest stage the lead reached on the action ("" before it was sent), from its state row."""
    stage = (
        LeadActionState.objects.filter(action_company=action_company, lead=lead).values_list("stage", flat=True).first()
    )
    return stage or ""


def _module_data(module: ActionCompanySystemModule) -> dict | None:
    if module.kind == ModuleKind.PRODUCT:
        product = module.product
        if product.deleted_at is not None or not product.is_published:
            return None
        return {
            "kind": module.kind,
            "uuid": str(product.uuid),
            "name": product.name,
            "sku": product.sku,
            "description": product.description,
            "price": str(product.price),
            "currency": product.currency,
            "attributes": product.attributes,
            "variants": [
                {
                    "uuid": str(variant.uuid),
                    "name": variant.name,
                    "sku": variant.sku,
                    "price": str(variant.price),
                    "attributes": variant.attributes,
                }
                for variant in product.variants.all()
            ],
        }
    if module.kind == ModuleKind.CONTENT:
        content = module.content
        if content.deleted_at is not None or not content.is_published:
            return None
        return {
            "kind": module.kind,
            "uuid": str(content.uuid),
            "title": content.title,
            "content_kind": content.kind,
            "url": content.url or (content.file.url if content.file else ""),
            "body": content.body,
        }
    form = module.form
    if form.deleted_at is not None:
        return None
    return {
        "kind": module.kind,
        "uuid": str(form.uuid),
        "name": form.name,
        "description": form.description,
        "schema": form.schema,
        "submit_label": form.submit_label,
        "success_message": form.success_message,
    }


def action_page_data(*, action_company: ActionCompany, lead: Lead) -> dict:
    """All a page needs to render: the action, its modules in order, the lead's stage and first name."""
    spec = system_spec(action_company.action.system.slug)
    modules = (
        action_company.modules.select_related("product", "content", "form")
        .prefetch_related(Prefetch("product__variants", queryset=Variant.objects.order_by("name")))
        .order_by("position", "id")
    )
    return {
        "action": {
            "uuid": str(action_company.uuid),
            "name": action_company.name,
            "description": action_company.description,
            "config": action_company.config,
            "action_type": action_company.action.type.slug,
            "system": spec.slug.value,
            "pipeline": [stage.value for stage in spec.pipeline],
            "result_stage": spec.result_stage.value,
        },
        "modules": [data for data in (_module_data(module) for module in modules) if data is not None],
        "lead": {
            "first_name": lead.first_name,
            "stage": lead_stage_on_action(action_company=action_company, lead=lead),
        },
    }


def action_company_funnel(
    *, action_company: ActionCompany, since: datetime | None = None, until: datetime | None = None
) -> dict:
    """Distinct leads that reached each pipeline stage in [since, until), and conversion between stages.

    A lead counts for a stage when it reached that stage or a later one, so each stage's count is at
    most the previous one's and conversion is a share of the leads that got that far.
    """
    spec = system_spec(action_company.action.system.slug)
    engagements = Engagement.objects.filter(action_company=action_company)
    if since is not None:
        engagements = engagements.filter(created_at__gte=since)
    if until is not None:
        engagements = engagements.filter(created_at__lt=until)
    furthest: dict[int, int] = {}
    for lead_id, stage in engagements.order_by().values_list("lead_id", "stage").distinct():
        if stage in spec.pipeline:
            furthest[lead_id] = max(furthest.get(lead_id, -1), spec.stage_rank(stage))
    stages = []
    previous_count = None
    for rank, stage in enumerate(spec.pipeline):
        count = sum(1 for reached in furthest.values() if reached >= rank)
        conversion = None
        if previous_count:
            conversion = round(count / previous_count, 4)
        stages.append({"stage": stage.value, "leads": count, "conversion": conversion})
        previous_count = count
    first = stages[0]["leads"]
    return {
        "action": str(action_company.uuid),
        "since": since,
        "until": until,
        "stages": stages,
        "overall_conversion": round(stages[-1]["leads"] / first, 4) if first else None,
    }


# --- The internal API -------------------------------------------------------------------------------


def actions_visible_to(*, company) -> QuerySet[Action]:
    """The catalogue as a company sees it: published global actions and all of its own."""
    return Action.objects.filter(Q(company__isnull=True, is_published=True) | Q(company=company)).select_related(
        "type", "system", "data_type"
    )


def engagement_list(*, company) -> QuerySet[Engagement]:
    """The company's engagements with what the list shows joined in (one query per page)."""
    return Engagement.objects.filter(company=company).select_related(
        "action_company", "lead", "visitor", "receiver", "message"
    )


def feed_for_lead(
    *,
    lead: Lead,
    action: UUID | None = None,
    stage: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Engagement]:
    """Every engagement of the lead, newest first, with what a feed entry shows joined in.

    One query per page: the company action, its catalogue action's type and system, the visitor and the
    message come in the same SELECT, and the (company, lead, -created_at) index serves the filter and
    the order, so a cursor page costs the same however long the feed is. `since` is inclusive, `until`
    exclusive.
    """
    queryset = Engagement.objects.filter(company_id=lead.company_id, lead_id=lead.pk).select_related(
        "action_company__action__type",
        "action_company__action__system",
        "visitor",
        "message",
    )
    if action is not None:
        queryset = queryset.filter(action_company__uuid=action)
    if stage:
        queryset = queryset.filter(stage=stage)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("-created_at", "-id")


def action_company_names_showing(*, target) -> list[str]:
    """Names of the alive company actions whose pages show `target` (a product, content or form)."""
    kind = ModuleKind(target._meta.model_name)
    return list(
        ActionCompanySystemModule.objects.filter(**{kind: target}, action_company__deleted_at__isnull=True)
        .order_by("action_company__name")
        .values_list("action_company__name", flat=True)
        .distinct()
    )


def forms_with_unsupported_patterns() -> Iterator[tuple[Form, list[str]]]:
    """Each form (deleted ones left out) with a pattern RE2 cannot compile, and where and why: forms saved
    before patterns were checked. Their submissions are refused until the company fixes the schema."""
    for form in Form.objects.select_related("company").order_by("company__slug", "name", "id").iterator():
        errors = schema_pattern_errors(form.schema) if isinstance(form.schema, dict) else []
        if errors:
            yield form, errors
