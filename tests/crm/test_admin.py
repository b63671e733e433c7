"""CRM admin behaviour beyond rendering: API keys, lead dedupe and visitor tenancy as form errors."""
import pytest
from django.urls import reverse

from action_engine.models import Engagement
from crm.choices import ApiKeyAccess
from crm.models import ApiKey, Company, Lead, LeadReceiver, Visitor
from crm.services import api_key_authenticate, api_key_hash, company_update
from salesassist.core.admin import RecentRowsFormSet
from salesassist.core.exceptions import PermissionDenied
from tests.action_engine.factories import EngagementFactory
from tests.crm.factories import (
    ApiKeyFactory,
    CompanyMembershipFactory,
    LeadFactory,
    LeadReceiverAttemptFactory,
    LeadReceiverFactory,
)

pytestmark = pytest.mark.django_db


def test_adding_an_api_key_creates_it_through_the_service_and_shows_it_once(admin_client, company, superuser):
    response = admin_client.post(
        reverse("admin:crm_apikey_add"),
        {"company": company.pk, "name": "Zapier", "access": ApiKeyAccess.READ_ONLY},
        follow=True,
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="Zapier")
    shown = [str(message) for message in response.context["messages"]]
    token = next(m.split("<code>")[1].split("</code>")[0] for m in shown if "<code>" in m)
    assert api_key.hashed_key == api_key_hash(token)
    assert api_key.created_by == superuser
    assert api_key.access == ApiKeyAccess.READ_ONLY
    assert token.split("_")[1] == api_key.prefix
    assert api_key_authenticate(token=token) == api_key
    # Shown once: the key's own page never shows it again, nor the hash.
    change_page = admin_client.get(reverse("admin:crm_apikey_change", args=[api_key.pk])).content.decode()
    assert token not in change_page
    assert api_key.hashed_key not in change_page
    assert api_key.prefix in change_page


def test_api_key_pages_never_show_the_hash(admin_client, company):
    api_key = ApiKeyFactory(company=company)
    for url in (reverse("admin:crm_apikey_changelist"), reverse("admin:crm_apikey_change", args=[api_key.pk])):
        assert api_key.hashed_key not in admin_client.get(url).content.decode()


def test_revoke_selected_keys_action(admin_client, company):
    revoked, kept = ApiKeyFactory(company=company), ApiKeyFactory(company=company)
    response = admin_client.post(
        reverse("admin:crm_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [revoked.pk]}
    )
    assert response.status_code == 302
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert revoked.revoked_at is not None and kept.revoked_at is None
    assert api_key_authenticate(token=revoked.token) is None
    assert api_key_authenticate(token=kept.token) == kept


def _lead_form(company, **fields):
    return {"company": company.pk, "first_name": "Ann", "status": "new", "custom_fields": "{}", **fields}


def _lead_inlines_management():
    """Empty management-form data for the lead page's inlines (feed and visitors)."""
    return {f"{prefix}-{name}": 0 for prefix in ("engagements", "action_states", "visitors") for name in ("TOTAL_FORMS", "INITIAL_FORMS")}


def test_a_duplicate_lead_email_is_a_form_error_not_a_server_error(admin_client, company):
    LeadFactory(company=company, email="ann@example.com")
    response = admin_client.post(
        reverse("admin:crm_lead_add"),
        {**_lead_form(company, email=" ANN@example.com "), **_lead_inlines_management()},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "email": ["This company already has a lead with this email."]
    }
    assert all(not f.formset.non_form_errors() for f in response.context["inline_admin_formsets"])
    assert Lead.objects.filter(company=company).count() == 1


def test_the_same_email_in_another_company_is_fine(admin_client, company, other_company):
    LeadFactory(company=other_company, email="ann@example.com")
    response = admin_client.post(
        reverse("admin:crm_lead_add"), {**_lead_form(company, email="ann@example.com"), **_lead_inlines_management()}
    )
    assert response.status_code == 302
    assert Lead.objects.get(company=company).email_normalized == "ann@example.com"


def test_a_visitor_cannot_be_linked_to_another_companys_lead(admin_client, company, other_company):
    foreign_lead = LeadFactory(company=other_company)
    response = admin_client.post(
        reverse("admin:crm_visitor_add"), {"company": company.pk, "lead": foreign_lead.pk, "user_agent": "x"}
    )
    assert response.status_code == 200
    assert "lead" in response.context["adminform"].form.errors
    assert not Visitor.objects.exists()


def test_company_add_with_a_member(admin_client, superuser):
    response = admin_client.post(
        reverse("admin:crm_company_add"),
        {
            "name": "Initech",
            "slug": "initech",
            "settings": "{}",
            "is_active": "on",
            "memberships-TOTAL_FORMS": 1,
            "memberships-INITIAL_FORMS": 0,
            "memberships-0-user": superuser.pk,
            "memberships-0-role": "owner",
        },
    )
    assert response.status_code == 302
    company = Company.objects.get(slug="initech")
    assert list(company.members.all()) == [superuser]


def test_api_keys_filter_by_status(admin_client, company):
    active, revoked = ApiKeyFactory(company=company), ApiKeyFactory(company=company)
    admin_client.post(reverse("admin:crm_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [revoked.pk]})
    for status, expected in (("active", active), ("revoked", revoked)):
        listed = admin_client.get(reverse("admin:crm_apikey_changelist"), {"status": status}).context["cl"].result_list
        assert [key.pk for key in listed] == [expected.pk]


def test_a_lead_page_shows_its_newest_engagements(admin_client):
    first = EngagementFactory()
    lead = first.lead
    later = [
        EngagementFactory(action_company=first.action_company, lead=lead, visitor=first.visitor)
        for _ in range(RecentRowsFormSet.recent_limit)
    ]
    page = admin_client.get(reverse("admin:crm_lead_change", args=[lead.pk]))
    (feed,) = [f.formset for f in page.context["inline_admin_formsets"] if f.formset.model is Engagement]
    shown = [form.instance.pk for form in feed.forms]
    assert len(shown) == RecentRowsFormSet.recent_limit
    assert first.pk not in shown and set(shown) == {e.pk for e in later}


def test_lead_receiver_page_shows_its_url(admin_client, company):
    receiver = LeadReceiverFactory(company=company)
    page = admin_client.get(reverse("admin:crm_leadreceiver_change", args=[receiver.pk])).content.decode()
    assert f'href="//api.crm.localhost:8000/v1/receivers/{receiver.uuid}/leads"' in page


def test_a_lead_added_in_admin_gets_its_dedupe_keys_from_the_service(admin_client, company):
    response = admin_client.post(
        reverse("admin:crm_lead_add"),
        {**_lead_form(company, email=" Ann@Example.com ", phone="+1 (555) 010-0000"), **_lead_inlines_management()},
    )
    assert response.status_code == 302
    lead = Lead.objects.get(company=company)
    assert (lead.email_normalized, lead.phone_normalized) == ("ann@example.com", "+15550100000")


def test_a_lead_owner_from_another_company_is_a_form_error(admin_client, company, other_company):
    outsider = CompanyMembershipFactory(company=other_company).user
    response = admin_client.post(
        reverse("admin:crm_lead_add"),
        {**_lead_form(company, email="ann@example.com", owner=outsider.pk), **_lead_inlines_management()},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"owner": ["Not a member of this company."]}
    assert not Lead.objects.filter(company=company).exists()


def test_a_lead_deleted_in_admin_is_soft_deleted_through_the_service(admin_client, company):
    lead = LeadFactory(company=company)
    response = admin_client.post(reverse("admin:crm_lead_delete", args=[lead.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert Lead.all_objects.get(pk=lead.pk).deleted_at is not None


def _receiver_form(company, **fields):
    return {
        "company": company.pk,
        "name": "Web form",
        "template": "{}",
        "source": "web",
        "is_active": "on",
        "attempts-TOTAL_FORMS": 0,
        "attempts-INITIAL_FORMS": 0,
        **fields,
    }


def test_a_lead_receiver_template_that_is_not_an_object_is_a_form_error(admin_client, company):
    response = admin_client.post(reverse("admin:crm_leadreceiver_add"), _receiver_form(company, template="[1, 2]"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"template": ["Must be a JSON object."]}
    assert not LeadReceiver.objects.exists()


def test_a_lead_receiver_default_owner_from_another_company_is_a_form_error(admin_client, company, other_company):
    outsider = CompanyMembershipFactory(company=other_company).user
    response = admin_client.post(
        reverse("admin:crm_leadreceiver_add"), _receiver_form(company, default_owner=outsider.pk)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"default_owner": ["Not a member of this company."]}


def test_a_lead_receiver_with_calls_is_not_deleted_in_admin(admin_client, company):
    receiver = LeadReceiverAttemptFactory(receiver=LeadReceiverFactory(company=company)).receiver
    response = admin_client.post(reverse("admin:crm_leadreceiver_delete", args=[receiver.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LeadReceiver.objects.filter(pk=receiver.pk).exists() and receiver.attempts.exists()


def test_changing_an_api_key_in_admin_changes_only_its_name_and_access(admin_client, company):
    api_key = ApiKeyFactory(company=company)
    response = admin_client.post(
        reverse("admin:crm_apikey_change", args=[api_key.pk]), {"name": "Renamed", "access": ApiKeyAccess.READ_ONLY}
    )
    assert response.status_code == 302
    changed = ApiKey.objects.get(pk=api_key.pk)
    assert (changed.name, changed.access, changed.hashed_key) == ("Renamed", ApiKeyAccess.READ_ONLY, api_key.hashed_key)


def _change_company(admin_client, company, **changes):
    """Post the company's change form with its memberships as they are, plus `changes` (by key)."""
    memberships = list(company.memberships.order_by("id"))
    data = {
        "name": company.name,
        "slug": company.slug,
        "settings": "{}",
        "is_active": "on",
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
    }
    for index, membership in enumerate(memberships):
        data.update(
            {
                f"memberships-{index}-id": membership.pk,
                f"memberships-{index}-company": company.pk,
                f"memberships-{index}-user": membership.user_id,
                f"memberships-{index}-role": membership.role,
            }
        )
    data.update(changes)
    return admin_client.post(reverse("admin:crm_company_change", args=[company.pk]), data)


def test_a_company_and_its_memberships_change_through_the_services(admin_client, company):
    membership = CompanyMembershipFactory(company=company, role="member")
    response = _change_company(admin_client, company, name="Renamed", **{"memberships-0-role": "owner"})
    assert response.status_code == 302
    company.refresh_from_db()
    membership.refresh_from_db()
    assert (company.name, membership.role) == ("Renamed", "owner")
    response = _change_company(admin_client, company, **{"memberships-0-DELETE": "on"})
    assert response.status_code == 302
    assert not company.memberships.exists()


def test_only_platform_staff_deactivate_a_company(company, superuser):
    staff = CompanyMembershipFactory(company=company).user
    with pytest.raises(PermissionDenied):
        company_update(company=company, user=staff, is_active=False)
    assert company_update(company=company, user=staff, is_active=True, name="Renamed").name == "Renamed"
    assert company_update(company=company, user=superuser, is_active=False).is_active is False


def test_a_membership_added_on_its_own_page_keeps_its_company(admin_client, company, other_company, superuser):
    response = admin_client.post(
        reverse("admin:crm_companymembership_add"), {"company": company.pk, "user": superuser.pk, "role": "member"}
    )
    assert response.status_code == 302
    membership = company.memberships.get()
    response = admin_client.post(
        reverse("admin:crm_companymembership_change", args=[membership.pk]),
        {"company": other_company.pk, "user": superuser.pk, "role": "owner"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.company, membership.role) == (company, "owner")


def test_a_lead_receiver_gets_a_signing_secret_in_admin_shown_once_never_on_its_page(admin_client, company):
    response = admin_client.post(
        reverse("admin:crm_leadreceiver_add"), _receiver_form(company, generate_secret="on"), follow=True
    )
    receiver = LeadReceiver.objects.get()
    assert receiver.secret.startswith("whsec_")
    assert receiver.secret in response.content.decode()  # the success message, this once
    page = admin_client.get(reverse("admin:crm_leadreceiver_change", args=[receiver.pk])).content.decode()
    assert receiver.secret not in page and "generate_secret" in page


def test_the_admin_action_stops_requiring_signed_calls(admin_client, company):
    receiver = LeadReceiverFactory(company=company, secret="whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=")
    response = admin_client.post(
        reverse("admin:crm_leadreceiver_changelist"),
        {"action": "unsign_receivers", "_selected_action": [receiver.pk]},
    )
    assert response.status_code == 302
    receiver.refresh_from_db()
    assert receiver.secret == ""


def test_a_rejected_call_shows_why_and_its_size_in_admin(admin_client, company):
    attempt = LeadReceiverAttemptFactory(
        receiver=LeadReceiverFactory(company=company), outcome="rejected", rejection="stale", body="", body_size=1234
    )
    page = admin_client.get(reverse("admin:crm_leadreceiverattempt_change", args=[attempt.pk])).content.decode()
    assert "Rejected (signature)" in page and "Stale" in page and "1234" in page
