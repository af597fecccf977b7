import pytest
from django.urls import reverse
from django.utils.html import escape

from alerts.operations.demo import demo_load
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_live_campaigns_only(client):
    live = CampaignFactory(title="Open campaign")
    CampaignFactory(title="Draft campaign", status="draft")
    response = client.get("/")
    body = response.content.decode()
    assert live.title in body
    assert "Draft campaign" not in body


def test_the_campaign_page_shows_story_numbered_asks_and_cosigners_by_state(
    client, django_assert_max_num_queries
):
    campaign = demo_load()
    with django_assert_max_num_queries(8):
        response = client.get(reverse("alerts:campaign_detail", args=[campaign.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert escape(campaign.summary) in body
    for ask in campaign.asks.all():
        assert f'<li value="{ask.position}"><strong>{escape(ask.title)}</strong>' in body
    # States appear in alphabetical order of their names, each followed by its signers.
    california = body.index("<dt>California</dt>")
    connecticut = body.index("<dt>Connecticut</dt>")
    assert california < body.index("Adam B. Schiff") < connecticut
    assert "<dt>District of Columbia</dt>" in body
    assert "lead" in body[california:connecticut]


def test_campaign_text_is_escaped(client):
    campaign = CampaignFactory(summary="<script>alert(1)</script>")
    body = client.get(reverse("alerts:campaign_detail", args=[campaign.slug])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_a_draft_campaign_is_not_found(client):
    campaign = CampaignFactory(status="draft")
    assert client.get(reverse("alerts:campaign_detail", args=[campaign.slug])).status_code == 404


def test_with_real_data_cosigners_show_the_seat_they_held_on_the_letters_date(client, real_data):
    campaign = demo_load()
    body = client.get(reverse("alerts:campaign_detail", args=[campaign.slug])).content.decode()
    # Schiff signed as the Representative for CA-30; he sits in the Senate now.
    assert "Adam B. Schiff (D-CA-30) — <em>lead</em>" in body
    assert "Eleanor Holmes Norton (D-DC-AL)" in body


def test_load_demo_keeps_the_imported_president(real_data):
    from legislators.models import Official

    Official.objects.update_or_create(
        key="us-president",
        defaults={
            "kind": "executive",
            "title": "President",
            "name": "Imported Holder",
            "last_name": "Holder",
            "channel": "contact_form",
            "contact_form_url": "https://www.whitehouse.gov/contact/",
        },
    )
    demo_load()
    assert Official.objects.get(key="us-president").name == "Imported Holder"
