"""Under a blast, a worker reuses for PUBLIC_CACHE_SECONDS what every visitor sees alike: the
live campaign behind its page and its counter, with no query at all; then reads afresh."""

import pytest
from django.urls import reverse

from alerts.web import recent
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    settings.PUBLIC_CACHE_SECONDS = 2.0
    now = [1000.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: now[0])
    recent.forget()
    yield now
    recent.forget()


def test_the_counter_is_reused_for_a_moment_then_read_afresh(
    client, clock, django_assert_num_queries
):
    campaign = CampaignFactory(status="live")
    url = reverse("alerts:campaign_count", args=[campaign.slug])
    assert client.get(url).json()["goal"] == campaign.goal

    campaign.goal = 12345
    campaign.save()
    with django_assert_num_queries(0):
        assert client.get(url).json()["goal"] != 12345  # the same for every visitor, for now

    clock[0] += 2.5
    assert client.get(url).json()["goal"] == 12345


def test_a_campaign_closed_says_so_on_its_page_once_the_moment_passes(client, clock):
    campaign = CampaignFactory(status="live")
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    assert "<form" in client.get(url).content.decode()

    campaign.status = "closed"
    campaign.save()
    clock[0] += 2.5

    assert "This campaign has ended." in client.get(url).content.decode()
    assert client.get(reverse("alerts:campaign_count", args=[campaign.slug])).json()["ended"]


def test_a_missing_campaign_is_not_kept(client, clock):
    url = reverse("alerts:campaign_count", args=["not-yet"])
    assert client.get(url).status_code == 404
    campaign = CampaignFactory(slug="not-yet", status="live")
    assert client.get(url).json()["goal"] == campaign.goal  # no 404 was remembered


def test_a_post_reuses_the_campaign_for_a_moment_then_a_closed_one_takes_none(client, clock):
    campaign = CampaignFactory(status="live")
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    client.get(url)
    campaign.status = "closed"
    campaign.save()
    # Still open to this worker for the moment it keeps the campaign.
    assert client.post(url, {"step": "address"}).status_code == 200

    clock[0] += 2.5
    assert client.post(url, {"step": "address"}).status_code == 409  # the ended page


def test_what_is_kept_stays_bounded(clock, monkeypatch):
    monkeypatch.setattr(recent, "MOST_KEPT", 3)
    for n in range(3):
        recent.recent(f"k{n}", lambda n=n: n)
    clock[0] += 5  # all three expired
    recent.recent("fresh", lambda: "x")
    assert set(recent._kept) == {"fresh"}
