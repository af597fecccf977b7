"""The admin at an organizer's laptop size, in a real browser: the deliveries list shows its
Status column without scrolling sideways at 1280 px, and the cosigner matcher's statuses are
legible (axe's colour-contrast rule, and a sign besides the colour)."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from alerts.models import Delivery
from legislators.models import Chamber
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    DeliveryFactory,
    LetterFactory,
    OfficialFactory,
    seated_legislator,
)
from tests.support.browser import axe_violations, format_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280
# Far from any real data a session may have imported: only these legislators sit that day.
DAY = dt.date(1959, 9, 20)


@pytest.fixture
def signed_in(browser, live_server, admin_client):
    """A 1280x800 page signed in as the admin fixture (its second factor included)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(10_000)
    session = admin_client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    yield context.new_page()
    context.close()


def test_the_deliveries_list_shows_status_at_1280_px(signed_in, live_server):
    page = signed_in
    campaign = CampaignFactory(
        title="Stop the transfers of offensive weapons until the ceasefire holds everywhere"
    )
    official = OfficialFactory(
        title="U.S. Ambassador to the United Nations", name="Linda Thomas-Greenfield"
    )
    for status in Delivery.Status.values:
        DeliveryFactory(
            action=ActionFactory(campaign=campaign),
            official=official,
            status=status,
            attempts=3,
            sent_at=dt.datetime.now(dt.UTC) if status == Delivery.Status.SENT else None,
            last_error="SMTP 550 5.1.1 <office@officials.example>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
        )
    page.goto(live_server.url + reverse("admin:alerts_delivery_changelist"))

    # Django's list scrolls sideways inside its own box (.results), beside the menu and the
    # filters: a column can be inside the window and still hidden there.
    results = page.locator("#changelist-form .results")
    visible = results.bounding_box()
    status = page.locator("#result_list thead th", has_text="Status")
    expect(status).to_be_visible()
    box = status.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert box["x"] + box["width"] <= visible["x"] + visible["width"], (box, visible)
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth"), "the list scrolls sideways"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    expect(page.locator("#result_list tbody tr").first).to_contain_text("Recipient addres")


# The cosigner matcher ------------------------------------------------------------------------

PASTED = "Judy Chu (D-CA), Robert Menendez (D-NJ), Tony Cardenas (R-CA), Nobody Here"

CONTRAST = """(element) => {
    const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
        const [R, G, B] = [r, g, b].map((c) => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    // The background is the nearest one painted: the element's own, or an ancestor's.
    const clear = (el) => getComputedStyle(el).backgroundColor === "rgba(0, 0, 0, 0)";
    let painted = element;
    while (painted.parentElement && clear(painted)) {
        painted = painted.parentElement;
    }
    const background = getComputedStyle(painted).backgroundColor;
    const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(rgb(background))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture
def letter():
    seated_legislator("Judy", "Chu", on=DAY, district=28)
    seated_legislator("Robert", "Menendez", on=DAY, state="NJ", district=8)
    seated_legislator("Robert", "Menendez", on=DAY, state="NJ", chamber=Chamber.SENATE)
    seated_legislator("Tony", "Cárdenas", on=DAY, district=29)
    return LetterFactory(sent_on=DAY, title="Letter one")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_match_statuses_are_legible(signed_in, live_server, letter, theme):
    page = signed_in
    page.emulate_media(color_scheme=theme)
    page.goto(live_server.url + reverse("admin:alerts_letter_match_cosigners", args=[letter.pk]))
    page.get_by_label("Cosigners").fill(PASTED)
    page.get_by_label("Chamber").select_option("")
    page.get_by_role("button", name="Preview").click()

    statuses = page.locator("#cosigner-matches .match-status")
    expect(statuses).to_have_count(4)
    # A sign and a word for each, not the colour alone.
    assert statuses.all_inner_texts() == ["✓ Matched", "? Ambiguous", "✗ Unmatched", "✗ Unmatched"]
    for status in statuses.all():
        assert status.evaluate(CONTRAST) >= 4.5

    violations = [
        v
        for v in axe_violations(page, impacts=("minor", "moderate", "serious", "critical"))
        if v["id"] == "color-contrast"
    ]
    assert violations == [], format_violations(violations)


# The partners panel -------------------------------------------------------------------------


def test_the_copy_button_puts_the_snippet_on_the_clipboard(signed_in, live_server):
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    campaign = CampaignFactory(allowed_origins="https://partner.example")
    page.goto(live_server.url + reverse("admin:alerts_campaign_change", args=[campaign.pk]))
    snippet = page.locator("#embed-snippet").input_value()
    assert snippet.startswith("<iframe ") and 'loading="lazy"' in snippet

    button = page.locator('button[data-copy="partner-1-link"]')
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#partner-1-link").input_value()
    assert copied.endswith("?source=partner.example")
    # A Copy button is not a submit button: the page did not post the form.
    assert page.url.endswith(f"/{campaign.pk}/change/")
