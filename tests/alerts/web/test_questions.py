"""The message page asks only what a chosen office needs and nobody else asked: a title the
Senate's CWC takes, a phone number for a web form that requires one. Never guessed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Action, Delivery
from legislators.models import SenateCwcOffice
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def senate_cwc(settings):
    settings.SENATE_CWC_URL = "http://127.0.0.1:9/scwc"
    settings.SENATE_CWC_API_KEY = "senate-key"
    SenateCwcOffice.objects.create(office_code="SCA03", name="CA", refreshed_at=timezone.now())


@pytest.fixture
def senator():
    return OfficialFactory(
        title="Senator",
        channel="contact_form",
        email="",
        cwc_office="SCA03",
        contact_form_url="https://www.senator.senate.gov/contact",
    )


def test_a_senate_cwc_office_chosen_without_a_title_it_takes_is_asked_for_one(
    client, senate_cwc, senator
):
    campaign = CampaignFactory(targets=[senator])
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    response = client.post(url, action_post([senator], prefix="Mx."))

    page = response.content.decode()
    assert response.status_code == 200
    assert "system needs one of these titles: Mr., Mrs., Miss, Ms., Dr." in page
    assert 'name="senate_prefix"' in page
    assert not Action.objects.exists()

    response = client.post(url, action_post([senator], prefix="Mx.", senate_prefix="Ms."))

    assert response.status_code == 302
    action = Action.objects.get()
    assert action.prefix == "Ms."
    assert Delivery.objects.get(action=action).channel == "cwc"


def test_a_title_the_senate_takes_is_not_asked_again(client, senate_cwc, senator):
    campaign = CampaignFactory(targets=[senator])
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    response = client.post(url, action_post([senator], prefix="Dr.", step="preview"))

    assert 'name="senate_prefix"' not in response.content.decode()
    assert client.post(url, action_post([senator], prefix="Dr.")).status_code == 302
    assert Action.objects.get().prefix == "Dr."


def test_nothing_more_is_asked_when_no_office_chosen_needs_it(client, senator, settings):
    settings.SENATE_CWC_API_KEY = ""  # the senator is reached another way: nothing to ask
    campaign = CampaignFactory(targets=[senator])
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    response = client.post(url, action_post([senator], step="preview"))

    assert 'class="questions"' not in response.content.decode()
    assert client.post(url, action_post([senator])).status_code == 302
    assert Action.objects.get().prefix == ""


def test_each_official_on_the_officials_page_says_how_the_message_will_go(
    client, senate_cwc, senator
):
    manual = OfficialFactory(
        title="Secretary of State",
        channel="contact_form",
        email="",
        contact_form_url="https://state.example/contact",
    )
    campaign = CampaignFactory(targets=[senator, manual])
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    page = client.post(url, action_post([senator, manual], step="address")).content.decode()

    assert "We send it for you through the Senate" in page
    assert "You send this one yourself through the office" in page
    assert "takes messages only through its own web page" in page  # and why
