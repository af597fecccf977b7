"""The constituent's officials come from their address; nothing else can be written."""

import pytest
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.web.forms import new_form_token
from alerts.web.targeting import recipients_for
from legislators.models import Official
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.forms import CONSTITUENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretary():
    return OfficialFactory(title="Secretary of State", name="Pat Example", last_name="Example")


@pytest.fixture
def campaign(real_data, secretary):
    return CampaignFactory(target_congress=True, targets=[secretary])


def _address(**changes):
    """The constituent, living in Arlington, VA 22201 unless `changes` move them."""
    return {
        **CONSTITUENT,
        "street": "1 Main St",
        "city": "Arlington",
        "state": "VA",
        "zip_code": "22201",
        **changes,
    }


def _post(client, campaign, data):
    return client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)


def _official(bioguide_id):
    return Official.objects.get(legislator__bioguide_id=bioguide_id)


def _send(**changes):
    return {
        **_address(),
        "step": "send",
        "subject": "Act now",
        "message": "Please.",
        "consent": "on",
        "token": new_form_token(),
        **changes,
    }


def test_recipients_take_at_most_three_queries(campaign, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        recipients = recipients_for(campaign=campaign, zip_code="22201", state="VA")
    assert len(recipients.checkable) == 4


def test_the_address_step_shows_the_constituents_officials(client, campaign, secretary):
    response = _post(client, campaign, {**_address(), "step": "address"})
    body = response.content.decode()
    assert response.templates[0].name == "alerts/steps/officials.html"
    checkable = response.context["form"].recipients.checkable
    assert [o.legislator.state for o in checkable if o.legislator] == ["VA", "VA", "VA"]
    assert secretary in checkable
    for official in checkable:
        assert f'value="{official.pk}" id="official-{official.pk}" checked' in body
    assert 'name="representative"' not in body


def test_a_split_zip_asks_the_constituent_to_pick_their_representative(client, campaign):
    response = _post(
        client,
        campaign,
        {**_address(city="New York", state="NY", zip_code="10001"), "step": "address"},
    )
    body = response.content.decode()
    assert "Which of these represents you?" in body
    for bioguide_id in ("G000599", "N000002"):
        assert f'name="representative" value="{_official(bioguide_id).pk}"' in body
    checkable = response.context["form"].recipients.checkable
    assert all(o.legislator.chamber == "senate" for o in checkable if o.legislator)


def test_the_picked_representative_is_written(client, campaign, secretary):
    senators = Official.objects.filter(legislator__chamber="senate", legislator__state="NY")
    nadler = _official("N000002")
    data = _send(
        city="New York",
        state="NY",
        zip_code="10001",
        officials=[str(o.pk) for o in [*senators, secretary]],
        representative=str(nadler.pk),
    )
    assert _post(client, campaign, data).status_code == 302
    written = set(Delivery.objects.values_list("official", flat=True))
    assert written == {nadler.pk, secretary.pk, *senators.values_list("pk", flat=True)}


def test_a_crafted_representative_outside_the_zip_is_rejected(client, campaign):
    data = _send(
        city="New York", state="NY", zip_code="10001", representative=str(_official("B001292").pk)
    )
    response = _post(client, campaign, data)
    assert "Choose your representative from the ones listed" in response.content.decode()
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_crafted_official_from_another_state_is_rejected(client, campaign):
    california = Official.objects.filter(
        legislator__chamber="senate", legislator__state="CA"
    ).first()
    response = _post(
        client, campaign, _send(officials=[str(_official("B001292").pk), str(california.pk)])
    )
    assert "not one of yours" in response.content.decode()
    assert Action.objects.count() == 0


def test_a_split_zips_representative_cannot_be_sent_as_a_checkbox(client, campaign):
    data = _send(
        city="New York", state="NY", zip_code="10001", officials=[str(_official("N000002").pk)]
    )
    _post(client, campaign, data)
    assert Action.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"zip_code": "99999"}, "could not find ZIP code 99999"),
        ({"zip_code": "22201", "state": "CA"}, "ZIP code 22201 is not in California"),
    ],
)
def test_an_unknown_zip_is_an_error_next_to_the_zip_field(client, campaign, changes, error):
    response = _post(client, campaign, {**_address(**changes), "step": "address"})
    assert error in response.context["form"].errors["zip_code"][0]
    assert 'href="#id_zip_code"' in response.content.decode()
    assert Action.objects.count() == 0


def test_change_goes_back_to_the_address_with_what_was_typed(client, campaign):
    response = _post(client, campaign, {**_address(), "step": "edit"})
    body = response.content.decode()
    assert 'name="zip_code" value="22201"' in body
    assert 'class="error-summary"' not in body
