"""api.crm/v1/leads: CRUD, soft delete, dedupe within the company, validation and the error shape."""
import pytest

from crm.models import Lead
from tests.crm.factories import CompanyMembershipFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    for field in fields:
        assert field in body["errors"], body
    return body


def test_create_read_update_and_list(crm_api, company, staff_user):
    created = crm_api.post(
        "/v1/leads/",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com", "owner": "staff"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["full_name"] == "Ada Lovelace"
    assert body["owner"] == "staff"
    assert body["status"] == "new"
    lead = Lead.objects.get(uuid=body["uuid"])
    assert lead.company == company and lead.email_normalized == "ada@example.com"

    detail = crm_api.get(f"/v1/leads/{lead.uuid}")
    assert detail.status_code == 200 and detail.json()["email"] == "ADA@example.com"

    patched = crm_api.patch(f"/v1/leads/{lead.uuid}/", {"status": "qualified", "phone": "+1 555 0100"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["status"] == "qualified"
    lead.refresh_from_db()
    assert lead.phone_normalized == "+15550100"

    replaced = crm_api.put(f"/v1/leads/{lead.uuid}", {"first_name": "Augusta", "email": "a@example.com"}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["first_name"] == "Augusta"

    listing = crm_api.get("/v1/leads")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert listing.json()["results"][0]["uuid"] == str(lead.uuid)


def test_soft_delete_hides_the_lead_and_frees_its_email(crm_api, company):
    lead = LeadFactory(company=company, email="gone@example.com")
    response = crm_api.delete(f"/v1/leads/{lead.uuid}")
    assert response.status_code == 204
    assert Lead.all_objects.get(pk=lead.pk).deleted_at is not None
    assert crm_api.get(f"/v1/leads/{lead.uuid}").status_code == 404
    again = crm_api.post("/v1/leads", {"email": "gone@example.com"}, format="json")
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("existing", "payload", "field"),
    [
        ({"email": "dup@example.com"}, {"email": " DUP@example.com "}, "email"),
        ({"phone": "+1 (555) 0101", "email": ""}, {"phone": "+15550101"}, "phone"),
    ],
)
def test_duplicate_email_or_phone_is_a_field_error_not_a_500(crm_api, company, existing, payload, field):
    LeadFactory(company=company, **existing)
    response = crm_api.post("/v1/leads", payload, format="json")
    body = assert_problem(response, 400, field)
    assert body["type"].endswith("duplicate_lead")
    assert Lead.objects.filter(company=company).count() == 1


def test_duplicate_on_update_is_a_field_error(crm_api, company):
    LeadFactory(company=company, email="taken@example.com")
    lead = LeadFactory(company=company, email="mine@example.com")
    response = crm_api.patch(f"/v1/leads/{lead.uuid}", {"email": "taken@example.com"}, format="json")
    assert_problem(response, 400, "email")
    lead.refresh_from_db()
    assert lead.email == "mine@example.com"


def test_same_email_in_another_company_is_fine(crm_api, other_company):
    LeadFactory(company=other_company, email="shared@example.com")
    assert crm_api.post("/v1/leads", {"email": "shared@example.com"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"email": "a@example.com", "status": "hot"}, "status"),
        ({"email": "a@example.com", "custom_fields": [1, 2]}, "custom_fields"),
        ({"email": "a@example.com", "owner": "nobody"}, "owner"),
        ({"email": "a@example.com", "favourite_colour": "blue"}, "favourite_colour"),
        ({"email": "a@example.com", "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "uuid"),
        ({}, "non_field_errors"),
    ],
)
def test_invalid_input_is_a_400_with_field_errors(crm_api, payload, field):
    response = crm_api.post("/v1/leads", payload, format="json")
    assert_problem(response, 400, field)
    assert Lead.objects.count() == 0


def test_owner_must_be_a_member_of_the_company(crm_api, other_company):
    outsider = UserFactory(username="outsider")
    CompanyMembershipFactory(company=other_company, user=outsider)
    response = crm_api.post("/v1/leads", {"email": "a@example.com", "owner": "outsider"}, format="json")
    assert_problem(response, 400, "owner")


def test_filters_search_and_ordering(crm_api, company):
    LeadFactory(company=company, first_name="Zed", email="zed@example.com", status="lost", source="fair")
    LeadFactory(company=company, first_name="Amy", email="amy@example.com", status="new", source="web")
    LeadFactory(company=company, first_name="Bob", email="bob@example.com", status="new", source="web")

    def names(query):
        response = crm_api.get(f"/v1/leads?{query}")
        assert response.status_code == 200, response.content
        return [row["first_name"] for row in response.json()["results"]]

    assert names("status=new&ordering=first_name") == ["Amy", "Bob"]
    assert names("source=fair") == ["Zed"]
    assert names("search=bob") == ["Bob"]
    assert names("email=AMY@example.com") == ["Amy"]
    assert names("ordering=-first_name") == ["Zed", "Bob", "Amy"]
    assert_problem(crm_api.get("/v1/leads?status=hot"), 400, "status")
    assert_problem(crm_api.get("/v1/leads?created_after=yesterday"), 400, "created_after")


def test_page_size_is_1_to_200(crm_api, company):
    LeadFactory.create_batch(3, company=company)
    response = crm_api.get("/v1/leads?page_size=1")
    assert len(response.json()["results"]) == 1 and response.json()["next"]
    response = crm_api.get("/v1/leads?page_size=200")
    assert response.status_code == 200 and len(response.json()["results"]) == 3


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "last"])
def test_a_page_that_is_not_a_page_number_is_400(crm_api, company, page):
    # The schema says an integer from 1 (salesassist/core/pagination.py).
    LeadFactory.create_batch(2, company=company)
    assert_problem(crm_api.get(f"/v1/leads?page_size=2&page={page}"), 400, "page")


@pytest.mark.parametrize("page", ["2", "99999999999999999999999"])
def test_a_page_past_the_end_is_404(crm_api, company, page):
    LeadFactory.create_batch(2, company=company)
    assert_problem(crm_api.get(f"/v1/leads?page_size=2&page={page}"), 404)


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "201", "99999999999999999999999", ""])
def test_a_page_size_out_of_range_is_400(crm_api, company, page_size):
    LeadFactory.create_batch(2, company=company)
    assert_problem(crm_api.get(f"/v1/leads?page_size={page_size}"), 400, "page_size")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "not-a-time"])
def test_a_time_filter_out_of_range_is_400(crm_api, action_engine_api, value):
    assert_problem(crm_api.get("/v1/leads", {"created_after": value}), 400, "created_after")
    assert action_engine_api.get("/v1/engagements", {"since": value}).status_code == 400
