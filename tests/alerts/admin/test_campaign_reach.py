"""The campaign's admin page tells the organizer how each target is reached and which topic
each office's web form will be given."""

import pytest
from django.urls import reverse

from legislators.models import ContactForm
from tests.factories import CampaignFactory, OfficialFactory

pytestmark = pytest.mark.django_db


def _form(official, options):
    definition = {
        "contact_form": {
            "steps": [
                {"select": [{"name": "t", "selector": "#t", "value": "$TOPIC", "options": options}]}
            ]
        }
    }
    ContactForm.objects.create(
        official=official, source="x.yaml", definition=definition, content_hash="0" * 64
    )


def test_the_campaign_page_shows_each_targets_way_and_the_topics_given(admin_client):
    by_form = OfficialFactory(
        title="President", name="Pat Doe", channel="contact_form", email="",
        contact_form_url="https://wh.example/contact",
    )  # fmt: skip
    no_topic = OfficialFactory(
        title="Senator", name="Lee Park", channel="contact_form", email="",
        contact_form_url="https://park.example/contact",
    )  # fmt: skip
    _form(by_form, ["Agriculture", "Foreign Affairs"])
    _form(no_topic, ["Agriculture", "Taxes"])
    campaign = CampaignFactory(targets=[by_form], topic="Foreign Relations")

    page = admin_client.get(
        reverse("admin:alerts_campaign_change", args=[campaign.pk])
    ).content.decode()

    assert "<p>President Pat Doe: Web form, filled by a browser</p>" in page
    topics = page[page.index('class="web-form-topics"') :]
    assert "<td>President Pat Doe</td><td>Foreign Affairs</td>" in topics
    assert "no match: constituents send it" in topics
