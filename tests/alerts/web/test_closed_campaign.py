"""A campaign that has ended (closed, or live past its end time) keeps its page, its partners'
embed and its counter up: they say it has ended, with the final count and a link to the
campaigns open now; its form is gone and a form left open is refused politely, storing
nothing. A draft stays a 404 for the public."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Action, Campaign
from tests.factories import CampaignFactory
from tests.support.broker import published_tasks
from tests.support.forms import action_post, submit_actions
from tests.support.thanks import hold_thanks

pytestmark = pytest.mark.django_db

ENDED_ON = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def closed(email_officials):
    campaign = CampaignFactory(
        targets=email_officials,
        goal=10,
        title="Stop the transfers",
        organization_name="Example Advocates",
        allowed_origins="https://partner.example",
        starts_at=ENDED_ON - dt.timedelta(days=30),
    )
    submit_actions(campaign, email_officials, 3)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED, ends_at=ENDED_ON)
    campaign.refresh_from_db()
    return campaign


def _url(name, campaign, *args):
    return reverse(f"alerts:{name}", args=[campaign.slug, *args])


def test_the_page_says_it_ended_with_the_final_count_and_where_to_go(client, closed):
    response = client.get(_url("campaign_detail", closed))

    assert response.status_code == 200
    assert response.templates[0].name == "alerts/campaign_closed.html"
    html = response.content.decode()
    assert "This campaign ended on March 14, 2026." in html
    assert "3 people took action." in html
    assert f'href="{reverse("alerts:campaign_list")}"' in html
    assert "See what you can do now: Example Advocates's campaigns open today" in html
    assert 'name="step"' not in html and "<form" not in html


def test_the_embed_stays_up_for_the_partners(client, closed):
    response = client.get(_url("campaign_embed", closed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This campaign ended on March 14, 2026." in html
    assert "3 people took action." in html
    assert 'target="_blank"' in html  # the link leaves the partner's frame
    assert "frame-ancestors 'self' https://partner.example" in response["Content-Security-Policy"]


def test_the_counter_gives_the_final_count(client, closed):
    response = client.get(_url("campaign_count", closed))
    assert response.status_code == 200
    assert response.json() == {"count": 3, "goal": 10, "ended": True}


@pytest.mark.parametrize("view", ["campaign_detail", "campaign_embed"])
def test_a_form_left_open_is_refused_politely_and_stores_nothing(
    client, closed, email_officials, broker_queue, view
):
    response = client.post(_url(view, closed), action_post(email_officials))

    assert response.status_code == 409
    html = response.content.decode()
    assert "Your message was not sent: this campaign is no longer taking messages." in html
    assert "3 people took action." in html
    assert Action.objects.count() == 3
    assert published_tasks(broker_queue) == []


def test_a_live_campaign_past_its_end_has_ended_before_the_beat_closes_it(client, email_officials):
    campaign = CampaignFactory(
        targets=email_officials,
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(minutes=1),
    )
    assert campaign.status == Campaign.Status.LIVE
    assert (
        "This campaign ended on" in client.get(_url("campaign_detail", campaign)).content.decode()
    )
    assert client.get(_url("campaign_count", campaign)).json()["ended"] is True


def test_a_live_campaigns_counter_is_as_it_was(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, goal=10)
    assert client.get(_url("campaign_count", campaign)).json() == {"count": 0, "goal": 10}


def test_the_thanks_page_and_the_confirmation_pages_back_link_keep_working(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    [action] = submit_actions(campaign, email_officials, 1)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)

    hold_thanks(client, action)
    assert client.get(_url("thanks", campaign, action.public_id)).status_code == 200
    confirm = client.get(reverse("alerts:confirm", args=[action.public_id]))
    assert confirm.status_code == 200
    back = _url("campaign_detail", campaign)
    assert client.get(back).status_code == 200


@pytest.mark.parametrize("status", [Campaign.Status.DRAFT, Campaign.Status.SCHEDULED])
def test_a_campaign_not_yet_live_is_still_a_404_for_the_public(client, email_officials, status):
    campaign = CampaignFactory(
        targets=email_officials, status=status, starts_at=timezone.now() + dt.timedelta(days=1)
    )
    for name in ("campaign_detail", "campaign_embed", "campaign_count"):
        assert client.get(_url(name, campaign)).status_code == 404, name
    assert (
        client.post(_url("campaign_detail", campaign), action_post(email_officials)).status_code
        == 404
    )
    assert Action.objects.count() == 0


def test_the_ended_page_reads_a_few_rows(client, closed, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # not live; the ended campaign; its count
        assert client.get(_url("campaign_detail", closed)).status_code == 200
