"""A form token sent again shows nothing of the first submission to anyone else: a replay with
other details is refused (a fresh token, the form again); a thanks page opens only in the
browser that sent the action; and no thanks page shows the postal address."""

import pytest
from django.test import Client
from django.urls import reverse

from alerts.models import Action, Call, Delivery
from alerts.web.forms import form_token_is_valid
from legislators.models import Official
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.forms import CONSTITUENT, action_post

pytestmark = pytest.mark.django_db

MALLORY = {
    "first_name": "Mallory",
    "last_name": "Replayer",
    "email": "mallory@example.net",
    "street": "9 Other Rd",
    "city": "Glendale",
    "state": "CA",
    "zip_code": "91101",
}
# What of Ani's submission nobody else may see.
ANI_PRIVATE = ("Petrosyan", "100 N Brand Blvd", "91203", "ani@example.org")


@pytest.fixture
def contact_form_office():
    """An office reached only through its own contact form: the thanks page offers the text
    to paste."""
    return OfficialFactory(
        title="Senator",
        name="Robin Vale",
        last_name="Vale",
        channel=Official.Channel.CONTACT_FORM,
        email="",
        contact_form_url="https://vale.senate.example/contact",
    )


@pytest.fixture
def campaign(email_officials, contact_form_office):
    return CampaignFactory(targets=[*email_officials, contact_form_office])


def _url(campaign, *, embed=False):
    name = "alerts:campaign_embed" if embed else "alerts:campaign_detail"
    return reverse(name, args=[campaign.slug])


def _thanks_url(action):
    return reverse("alerts:thanks", args=[action.campaign.slug, action.public_id])


def _shows_nothing_of_ani(response):
    body = response.content.decode()
    for private in ANI_PRIVATE:
        assert private not in body, private


@pytest.mark.parametrize("embed", [False, True])
def test_a_replayed_token_with_other_details_is_refused_and_shows_nothing_of_the_first(
    campaign, email_officials, embed
):
    ani = Client()
    data = action_post(email_officials)
    assert ani.post(_url(campaign, embed=embed), data).status_code in (200, 302)
    first = Action.objects.get()

    mallory = Client()
    replay = {**data, **MALLORY, "message": "Someone else's words."}
    response = mallory.post(_url(campaign, embed=embed), replay)

    assert response.status_code == 200
    assert response.templates[0].name == "alerts/steps/message.html"
    assert "This form was already sent" in response.content.decode()
    _shows_nothing_of_ani(response)
    assert str(first.public_id) not in response.content.decode()
    assert Action.objects.count() == 1
    # With the fresh token the page carries, Mallory's own message goes out as her own.
    fresh = dict(response.context["page"].carried)["token"]
    assert form_token_is_valid(fresh) and fresh != data["token"]
    again = mallory.post(_url(campaign, embed=embed), {**replay, "token": fresh})
    assert again.status_code in (200, 302)
    assert Action.objects.count() == 2
    assert Action.objects.get(email="mallory@example.net").public_id != first.public_id


def test_the_same_submission_sent_twice_is_one_action_and_one_thanks_page(
    client, campaign, email_officials
):
    data = action_post(email_officials)
    first = client.post(_url(campaign), data)
    second = client.post(_url(campaign), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _thanks_url(Action.objects.get())
    assert client.get(second["Location"]).status_code == 200


def test_a_thanks_page_opens_only_in_the_browser_that_sent_it(client, campaign, email_officials):
    sent = client.post(_url(campaign), action_post(email_officials))
    action = Action.objects.get()
    cookie = sent.cookies["thanks"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert str(action.public_id) in cookie.value and '"' not in cookie.OutputString()
    url = _thanks_url(action)
    assert client.get(url).status_code == 200

    stranger = Client()
    assert stranger.get(url).status_code == 404
    embedded = reverse("alerts:embed_thanks", args=[campaign.slug, action.public_id])
    assert stranger.get(embedded).status_code == 404
    # A forged cookie naming the action is no key either.
    stranger.cookies["thanks"] = str(action.public_id)
    assert stranger.get(url).status_code == 404


def test_a_call_cannot_be_logged_from_another_browser(client, campaign, email_officials):
    office = email_officials[0]
    office.phone = "202-555-0100"
    office.save()
    client.post(_url(campaign), action_post(email_officials))
    action = Action.objects.get()
    called = reverse("alerts:call_logged", args=[campaign.slug, action.public_id])

    response = Client().post(called, {"official": office.pk, "outcome": "spoke"})

    assert response.status_code in (403, 404)
    _shows_nothing_of_ani(response)
    assert Call.objects.count() == 0
    assert client.post(called, {"official": office.pk, "outcome": "spoke"}).status_code == 302
    assert Call.objects.count() == 1


@pytest.mark.parametrize("embed", [False, True])
def test_the_thanks_page_shows_no_postal_address(
    client, settings, campaign, email_officials, contact_form_office, embed
):
    settings.DELIVERY_SANDBOX = False  # in the sandbox even a contact-form office gets email
    response = client.post(
        _url(campaign, embed=embed),
        action_post([*email_officials, contact_form_office]),
        follow=True,
    )
    body = response.content.decode()

    assert "Your message to paste" in body  # the contact-form office's text, to paste
    delivery = Delivery.objects.get(official=contact_form_office)
    assert CONSTITUENT["street"] in delivery.body  # the office still gets the signature
    assert "Please act at the Security Council." in body
    for private in ("100 N Brand Blvd", "Glendale, CA 91203", "ani@example.org"):
        assert private not in body, private
