"""Calls beside letters: every official's phone numbers (Washington, and for members of
Congress the district office nearest the constituent) as tel: links with the campaign's call
script, on the officials step, the thanks page and the confirmation email; and "I called"."""

import re

import pytest
from django.urls import reverse

from alerts.models import Call, Delivery
from alerts.notifications import confirmation_send
from alerts.selectors import call_sheets
from alerts.services import action_submit, call_log
from legislators.models import DistrictOffice, Official
from tests.factories import (
    CampaignFactory,
    LegislatorFactory,
    OfficialFactory,
    PolicyAskFactory,
)
from tests.support.forms import CONSTITUENT, action_post

pytestmark = pytest.mark.django_db

SCRIPTS = {
    "call_script_thank": "Thank you, {official_title} {official_last_name}, for signing.",
    "call_script_urge": "I live in {constituent_city}. Please sign, {official_title} "
    "{official_last_name}:\n{policy_asks}",
    "call_script_executive": "My name is {constituent_name}. Please act, {official_title}.",
}


@pytest.fixture
def representative():
    """A House member reached by email, with a Washington number and two district offices:
    Glendale (91203, the constituent's ZIP) and Lancaster (93534)."""
    legislator = LegislatorFactory(
        bioguide_id="Z999001",
        first_name="Adam",
        last_name="Schiff",
        state="CA",
        district=30,
        phone="202-225-4176",
    )
    for city, zip_code, phone in [
        ("Lancaster", "93534", "661-555-0101"),
        ("Glendale", "91203", "818-555-0102"),
    ]:
        DistrictOffice.objects.create(
            legislator=legislator,
            office_id=f"Z999001-{city.lower()}",
            city=city,
            state="CA",
            zip_code=zip_code,
            phone=phone,
        )
    return OfficialFactory(
        key="z999001", kind=Official.Kind.LEGISLATOR, legislator=legislator,
        title="Representative", name="Adam Schiff", last_name="Schiff",
    )  # fmt: skip


@pytest.fixture
def secretary():
    return OfficialFactory(
        title="Secretary of State", name="Alex Stone", last_name="Stone", phone="202-647-0000"
    )


@pytest.fixture
def campaign(representative, secretary):
    campaign = CampaignFactory(targets=[representative, secretary], **SCRIPTS)
    PolicyAskFactory(campaign=campaign, position=1, title="A UN mandate")
    return campaign


def _tel(number):
    return f'href="tel:+1{number.replace("-", "")}"'


def test_call_sheets_give_numbers_nearest_office_and_script_in_three_queries(
    campaign, representative, secretary, django_assert_num_queries
):
    with django_assert_num_queries(3):
        sheets = call_sheets(
            campaign=campaign,
            targets=[(representative, "urge"), (secretary, "executive")],
            zip_code="91203",
            sender=CONSTITUENT,
        )
    rep = sheets[representative.pk]
    assert [(p.label, p.number, p.href) for p in rep.phones] == [
        ("Washington office", "202-225-4176", "tel:+12022254176"),
        ("Glendale office", "818-555-0102", "tel:+18185550102"),
    ]
    assert rep.script == "I live in Glendale. Please sign, Representative Schiff:\n1. A UN mandate"
    sec = sheets[secretary.pk]
    assert [p.number for p in sec.phones] == ["202-647-0000"]
    assert sec.script == "My name is Ani Petrosyan. Please act, Secretary of State."
    # Farther north the Lancaster office is nearer.
    far = call_sheets(
        campaign=campaign, targets=[(representative, "thank")], zip_code="93510", sender={}
    )[representative.pk]
    assert far.phones[1].number == "661-555-0101"
    assert far.script == "Thank you, Representative Schiff, for signing."


def test_the_query_count_does_not_grow_with_officials(campaign, django_assert_num_queries):
    officials = [OfficialFactory(phone=f"202-555-01{n:02d}") for n in range(10)]
    for n in range(5):
        legislator = LegislatorFactory(phone=f"202-225-00{n:02d}")
        DistrictOffice.objects.create(
            legislator=legislator, office_id=f"o-{n}", city="X", state="VA", phone="1"
        )
        officials.append(OfficialFactory(kind=Official.Kind.LEGISLATOR, legislator=legislator))
    with django_assert_num_queries(3):
        sheets = call_sheets(
            campaign=campaign, targets=[(o, "urge") for o in officials], zip_code="22201"
        )
    assert all(sheets[o.pk].phones for o in officials)


def test_the_officials_step_shows_tel_links_and_scripts(client, campaign):
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    response = client.post(url, {**CONSTITUENT, "step": "address", "token": "t"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="officials"' in body  # the officials step
    for number in ("202-225-4176", "818-555-0102", "202-647-0000"):
        assert _tel(number) in body
    assert "661-555-0101" not in body  # only the nearest district office
    assert "I live in Glendale. Please sign, Representative Schiff:<br>1. A UN mandate" in body
    assert "My name is Ani Petrosyan. Please act, Secretary of State." in body


def _submitted(client, campaign, officials):
    response = client.post(
        reverse("alerts:campaign_detail", args=[campaign.slug]), action_post(officials)
    )
    assert response.status_code == 302
    return response.url


def test_the_thanks_page_shows_numbers_scripts_and_a_call_form_per_official(
    client, campaign, representative, secretary
):
    body = client.get(_submitted(client, campaign, [representative, secretary])).content.decode()
    for number in ("202-225-4176", "818-555-0102", "202-647-0000"):
        assert _tel(number) in body
    assert "Please act, Secretary of State." in body
    action_url = body.count('name="csrfmiddlewaretoken"')
    assert action_url == 2  # one "I called" form per official with a number
    for official in (representative, secretary):
        assert f'name="official" value="{official.pk}"' in body
    for value in ("spoke", "voicemail", "no_answer"):
        assert f'value="{value}"' in body


def test_the_embedded_thanks_page_has_numbers_but_no_call_form(client, campaign, secretary):
    thanks = _submitted(client, campaign, [secretary])
    action_id = thanks.rstrip("/").rsplit("/", 1)[-1]
    body = client.get(
        reverse("alerts:embed_thanks", args=[campaign.slug, action_id])
    ).content.decode()
    assert _tel("202-647-0000") in body
    assert "csrfmiddlewaretoken" not in body


def test_the_confirmation_email_lists_numbers_and_scripts(
    settings, campaign, representative, secretary, mailoutbox
):
    campaign.double_opt_in = True
    campaign.save()
    submitted = action_submit(
        campaign=campaign, constituent=CONSTITUENT, subject="S", message="M",
        officials=[representative, secretary], consent_text="ok",
    )  # fmt: skip
    assert confirmation_send(action_id=submitted.action.pk)
    [mail] = mailoutbox
    assert "Call 202-225-4176 (Washington office)" in mail.body
    assert "Call 818-555-0102 (Glendale office)" in mail.body
    assert "Call 202-647-0000 (Washington office)" in mail.body
    # The organizer's script, the name left for the caller: the email carries nothing the
    # submitter typed until the address is confirmed (issue 14).
    assert (
        "What to say: My name is {constituent_name}. Please act, Secretary of State." in mail.body
    )
    assert "Petrosyan" not in mail.body


# --- "I called" ---------------------------------------------------------------------------


def _called_url(campaign, thanks_url):
    action_id = thanks_url.rstrip("/").rsplit("/", 1)[-1]
    return reverse("alerts:call_logged", args=[campaign.slug, action_id])


def test_a_call_is_logged_and_the_page_says_so(client, campaign, secretary):
    thanks = _submitted(client, campaign, [secretary])
    response = client.post(
        _called_url(campaign, thanks), {"official": secretary.pk, "outcome": "voicemail"}
    )
    assert response.status_code == 302
    call = Call.objects.get()
    assert (call.campaign, call.official, call.outcome) == (campaign, secretary, "voicemail")
    assert call.action.deliveries.get().official == secretary
    page = client.get(response.url).content.decode()
    assert "Thank you: your call is counted." in page


def test_an_invalid_outcome_is_refused_clearly_and_nothing_stored(client, campaign, secretary):
    thanks = _submitted(client, campaign, [secretary])
    response = client.post(
        _called_url(campaign, thanks), {"official": secretary.pk, "outcome": "hung_up"}
    )
    assert response.status_code == 400
    assert "Choose how the call went: Spoke to staff, Left a voicemail, No answer." in (
        response.content.decode()
    )
    assert Call.objects.count() == 0


def test_an_official_not_of_this_action_is_refused(client, campaign, secretary, representative):
    stranger = OfficialFactory(phone="202-555-0199")
    thanks = _submitted(client, campaign, [secretary])
    for official in (stranger, representative):  # another campaign's, or not chosen
        response = client.post(
            _called_url(campaign, thanks), {"official": official.pk, "outcome": "spoke"}
        )
        assert response.status_code == 400
        assert "That official is not one of this action&#x27;s." in response.content.decode()
    response = client.post(_called_url(campaign, thanks), {"official": "x", "outcome": "spoke"})
    assert response.status_code == 400
    assert Call.objects.count() == 0


def test_the_call_form_needs_csrf(client, campaign, secretary):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    thanks = _submitted(client, campaign, [secretary])
    response = strict.post(
        _called_url(campaign, thanks), {"official": secretary.pk, "outcome": "spoke"}
    )
    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_calls_are_rate_limited(client, settings, campaign, secretary, monkeypatch):
    from alerts.web import abuse, views

    monkeypatch.setattr(views, "CALL_LIMIT", abuse.Limit("call", 2, 3600))
    thanks = _submitted(client, campaign, [secretary])
    codes = [
        client.post(
            _called_url(campaign, thanks), {"official": secretary.pk, "outcome": "spoke"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]
    assert Call.objects.count() == 2


def test_call_log_service_refuses_what_the_view_refuses(campaign, secretary):
    submitted = action_submit(
        campaign=campaign, constituent=CONSTITUENT, subject="S", message="M",
        officials=[secretary], consent_text="ok",
    )  # fmt: skip
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        call_log(action=submitted.action, official_id=secretary.pk, outcome="")
    assert "outcome" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        call_log(action=submitted.action, official_id=OfficialFactory().pk, outcome="spoke")
    assert "official" in error.value.message_dict
    assert call_log(action=submitted.action, official_id=secretary.pk, outcome="no_answer")
    assert Call.objects.count() == 1
    assert Delivery.objects.count() == 1


# --- the admin ----------------------------------------------------------------------------


def test_calls_are_counted_per_office_in_the_admin(
    admin_client, campaign, secretary, representative
):
    other = CampaignFactory()
    for official, outcome in [
        (secretary, "spoke"),
        (secretary, "voicemail"),
        (secretary, "spoke"),
        (representative, "no_answer"),
    ]:
        Call.objects.create(campaign=campaign, official=official, outcome=outcome)
    Call.objects.create(campaign=other, official=secretary, outcome="spoke")

    changelist = admin_client.get(reverse("admin:alerts_campaign_changelist")).content.decode()
    assert re.search(rf'<a href="[^"]*/{campaign.pk}/change/[^>]*>{campaign.title}</a>', changelist)
    assert '<td class="field-call_count">4</td>' in changelist
    assert '<td class="field-call_count">1</td>' in changelist

    change = admin_client.get(
        reverse("admin:alerts_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert (
        "<tr><td>Secretary of State Alex Stone</td><td>3</td><td>2</td><td>1</td><td>0</td></tr>"
        in change
    )
    assert (
        "<tr><td>Representative Adam Schiff</td><td>1</td><td>0</td><td>0</td><td>1</td></tr>"
        in change
    )
    for field in ("call_script_thank", "call_script_urge", "call_script_executive"):
        assert f'name="{field}"' in change

    calls = admin_client.get(
        reverse("admin:alerts_call_changelist") + f"?campaign__id__exact={campaign.pk}"
    ).content.decode()
    assert "4 calls" in calls


def test_a_call_script_with_an_unknown_placeholder_is_refused_in_the_admin(admin_client, campaign):
    from alerts.admin.campaigns import CampaignAdminForm

    form = CampaignAdminForm(instance=campaign, data={"call_script_urge": "Hi {nobody}"})
    assert not form.is_valid()
    assert "Unknown placeholder {nobody}" in form.errors["call_script_urge"][0]
