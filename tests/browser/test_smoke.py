"""Smoke tests of the public campaign page in a real browser."""

import pytest
from django.urls import reverse

from alerts.operations.demo import demo_load
from tests.support.browser import axe_violations, format_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign_url(live_server):
    campaign = demo_load()
    return live_server.url + reverse("alerts:campaign_detail", args=[campaign.slug])


def test_campaign_page_renders_and_is_accessible(page, campaign_url):
    response = page.goto(campaign_url)
    assert response.status == 200
    heading = page.get_by_role("heading", level=1)
    assert heading.is_visible()
    assert "Artsakh" in heading.inner_text()

    screenshot(page, "campaign-detail")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


def test_campaign_form_works_without_javascript(page_nojs, campaign_url):
    response = page_nojs.goto(campaign_url)
    assert response.status == 200
    assert page_nojs.locator("input[name=first_name]").is_visible()
    screenshot(page_nojs, "campaign-detail-nojs")
