"""The thank-you page's counter in a real browser: it asks for the count once a minute, never
while the tab is hidden, catches up when the tab is shown again; without JavaScript the page
still shows the count."""

import pytest
from django.urls import reverse

from tests.factories import CampaignFactory, three_email_officials
from tests.support.forms import submit_actions
from tests.support.thanks import thanks_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SET_VISIBILITY = """state => {
  Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture
def thanks_url(live_server):
    officials = three_email_officials()
    campaign = CampaignFactory(targets=officials, goal=10)
    [action] = submit_actions(campaign, officials, 1)
    submit_actions(campaign, officials, 2, tag="others")
    url = live_server.url + reverse("alerts:thanks", args=[campaign.slug, action.public_id])
    return url, thanks_cookie_for(live_server.url, action)


def test_the_count_is_polled_once_a_minute_and_not_while_hidden(page, thanks_url):
    thanks_url, cookie = thanks_url
    page.context.add_cookies([cookie])
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "count.json" in r.url else None)
    page.clock.install()
    page.goto(thanks_url)
    assert "3 of 10 people have taken action." in page.locator(".goal-count").inner_text()

    page.clock.run_for(59_000)
    assert asked == []
    page.clock.run_for(2_000)
    page.wait_for_function("() => true")
    assert len(asked) == 1

    page.evaluate(SET_VISIBILITY, "hidden")
    page.clock.run_for(10 * 60_000)
    assert len(asked) == 1, "a hidden tab asks nothing"

    page.evaluate(SET_VISIBILITY, "visible")
    page.clock.run_for(1_000)
    assert len(asked) == 2, "shown again after a while: it catches up at once"
    page.clock.run_for(60_000)
    assert len(asked) == 3


def test_without_javascript_the_count_is_on_the_page(page_nojs, thanks_url):
    thanks_url, cookie = thanks_url
    page_nojs.context.add_cookies([cookie])
    page_nojs.goto(thanks_url)
    assert "3 of 10 people have taken action." in page_nojs.locator(".goal-count").inner_text()
