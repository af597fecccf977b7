"""The campaign dashboard and the staffer report in a real browser, under the site's CSP: the
charts and the tile map are drawn and visible, and the report prints without the page's links."""

import os

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests.support.campaign_seed import seed_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""


@pytest.fixture
def signed_in(browser, live_server, admin_client):
    """A desktop-sized page signed in as the admin fixture (its second factor included)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    session = admin_client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    yield page
    context.close()


def test_the_dashboard_draws_its_charts_and_map(signed_in, live_server):
    page = signed_in
    campaign = seed_campaign(actions=200).campaign
    page.goto(live_server.url + reverse("admin:alerts_campaign_dashboard", args=[campaign.pk]))

    hourly = page.locator("svg.chart-hourly")
    expect(hourly).to_be_visible()
    assert hourly.bounding_box()["width"] > 500
    tallest = max(
        float(rect.get_attribute("height"))
        for rect in page.locator("svg.chart-hourly rect.confirmed").all()
    )
    assert tallest > 50
    expect(page.locator("svg.chart-daily")).to_be_visible()

    california = page.locator('svg.tile-map g[data-state="CA"] rect')
    expect(california).to_be_visible()
    # The stylesheet shaded the tiles: a state with actions is darker than one without.
    fill = california.evaluate("el => getComputedStyle(el).fill")
    empty = page.locator('svg.tile-map g[data-state="OH"] rect').evaluate(
        "el => getComputedStyle(el).fill"
    )
    assert fill == "rgb(36, 89, 122)" and empty == "rgb(241, 241, 241)"
    assert page.evaluate("window.__cspViolations") == []
    if os.environ.get("DASHBOARD_SCREENSHOT"):
        page.screenshot(path=os.environ["DASHBOARD_SCREENSHOT"], full_page=True)


def test_the_report_prints_without_its_links(signed_in, live_server):
    page = signed_in
    campaign = seed_campaign(actions=40).campaign
    page.goto(live_server.url + reverse("admin:alerts_campaign_report", args=[campaign.pk]))
    nav = page.locator("nav.screen-only")
    expect(nav).to_be_visible()
    page.emulate_media(media="print")
    expect(nav).to_be_hidden()
    expect(page.locator("section.office").first).to_be_visible()
    if os.environ.get("REPORT_SCREENSHOT"):
        page.emulate_media(media="screen")
        page.screenshot(path=os.environ["REPORT_SCREENSHOT"], full_page=False)
    assert page.evaluate("window.__cspViolations") == []
