"""The pages and the admin under the site's Content-Security-Policy, in a real browser: nothing
is refused, and the pages' own scripts run (their effects are there to see)."""

import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from alerts.models import Action
from tests.factories import CampaignFactory
from tests.support.forms import CONSTITUENT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before any of the page's own code: each refusal the browser reports, kept for the test.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""

LABELS = {
    "First name": CONSTITUENT["first_name"],
    "Last name": CONSTITUENT["last_name"],
    "Email": CONSTITUENT["email"],
    "Street address": CONSTITUENT["street"],
    "City": CONSTITUENT["city"],
    "ZIP code": CONSTITUENT["zip_code"],
}


@pytest.fixture
def csp_page(page):
    """`page`, recording CSP violations (events in the page, and the console's reports)."""
    page.add_init_script(RECORD_VIOLATIONS)
    console = []

    def keep_reports(message):
        if "Content Security Policy" in message.text:
            console.append(message.text)

    page.on("console", keep_reports)
    page.console_reports = console
    return page


def assert_nothing_refused(page, where):
    violations = page.evaluate("window.__cspViolations || []")
    assert violations == [], f"{where}: {violations}"
    assert page.console_reports == [], f"{where}: {page.console_reports}"


def _policy(response):
    return response.headers.get("content-security-policy", "")


def submit(page, step):
    with page.expect_navigation():
        page.locator(f"button[value={step}]").click()


def fill_address(page, **changes):
    for label, value in {**LABELS, **changes}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("State", exact=True).select_option(CONSTITUENT["state"])


def walk_to_the_end(page, where):
    """From a filled-in address step to the page after the send, each page checked."""
    submit(page, "address")
    assert_nothing_refused(page, f"{where}: officials step")
    submit(page, "officials")
    assert_nothing_refused(page, f"{where}: message step")
    page.locator("input[name=consent]").check()
    submit(page, "send")
    assert_nothing_refused(page, f"{where}: after the send")


def test_the_journey_runs_under_the_policy_and_its_script_runs(
    csp_page, live_server, email_officials, settings
):
    page = csp_page
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    url = live_server.url + reverse("alerts:campaign_detail", args=[campaign.slug])

    response = page.goto(url)
    assert "script-src 'self'" in _policy(response)
    assert_nothing_refused(page, "campaign page")

    # A step with a mistake: form.js moves focus to the list of problems, which only a script
    # that was allowed to run can do.
    fill_address(page, **{"First name": ""})
    submit(page, "address")
    expect(page.locator("#error-summary")).to_be_focused()
    assert_nothing_refused(page, "address step with an error")

    page.get_by_label("First name", exact=True).fill(CONSTITUENT["first_name"])
    walk_to_the_end(page, "journey")
    assert "/thanks/" in page.url
    assert Action.objects.filter(campaign=campaign).count() == 1

    for name, path in {
        "embed": reverse("alerts:campaign_embed", args=[campaign.slug]),
        "privacy": reverse("alerts:privacy"),
        "confirm (unknown link)": f"/confirm/{uuid.uuid4()}/",
    }.items():
        response = page.goto(live_server.url + path)
        assert "script-src 'self'" in _policy(response), name
        assert_nothing_refused(page, name)

    settings.RATE_LIMIT_PER_IP = 1  # this address has sent once already
    page.goto(url)
    fill_address(page, Email="second@example.org")
    walk_to_the_end(page, "rate-limited send")
    expect(page.get_by_role("heading", name="Please wait a little")).to_be_visible()


def test_the_admin_works_under_the_policy(csp_page, live_server, admin_client):
    """Signed in as the admin fixture is (with its second factor, where the admin asks one):
    the admin's own scripts run, e.g. the slug filled in from the title as it is typed."""
    page = csp_page
    response = page.goto(live_server.url + reverse("admin:login"))
    assert "script-src 'self'" in _policy(response)
    assert_nothing_refused(page, "admin sign-in")

    session = admin_client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    for name in ("index", "alerts_campaign_changelist", "alerts_delivery_changelist"):
        response = page.goto(live_server.url + reverse(f"admin:{name}"))
        assert response.status == 200, name
        assert "script-src 'self'" in _policy(response), name
        assert_nothing_refused(page, name)

    page.goto(live_server.url + reverse("admin:alerts_campaign_add"))
    expect(page.locator("#id_title")).to_be_visible()
    assert_nothing_refused(page, "admin campaign form")
    page.locator("#id_title").press_sequentially("Clean Water Now")  # keys, as prepopulate listens
    expect(page.locator("#id_slug")).to_have_value("clean-water-now")
    assert_nothing_refused(page, "admin campaign form, typed in")
