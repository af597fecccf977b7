"""An organizer's campaign from start to end, in a real browser: signed in with a password and
an authenticator code, they create a campaign in the admin, preview it as a constituent from a
ZIP code, look at its draft page, schedule it; it goes live on its own (the beat's service at a
time after its start); constituents act; they close it, and its public page says it has ended,
with the final count. All under the site's CSP."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from alerts import tasks
from alerts.models import Action, Campaign, Delivery
from tests.factories import OfficialFactory
from tests.support.forms import submit_actions
from tests.support.staff import STAFF_PASSWORD, device_code, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "organizer@example.org"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""


@pytest.fixture
def organizer(browser, live_server):
    """A desktop-sized page of a staff member signed in through the admin's form, with a code
    from their authenticator."""
    user = User.objects.create_superuser(EMAIL, EMAIL, STAFF_PASSWORD)
    device = totp_device(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/admin/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.fill("input[name=otp_token]", device_code(device))
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    yield page
    context.close()


def _violations(page):
    return page.evaluate("window.__cspViolations")


def test_create_preview_schedule_go_live_close(organizer, live_server):
    page = organizer
    secretary = OfficialFactory(title="Secretary of State", name="Alex Stone", last_name="Stone")

    # Create: the story, the message, one ask, a fixed target; Congress not written.
    page.goto(live_server.url + reverse("admin:alerts_campaign_add"))
    page.locator("#id_title").press_sequentially("Protect aid workers")
    expect(page.locator("#id_slug")).to_have_value("protect-aid-workers")  # admin's own script
    page.fill("#id_organization_name", "Example Advocates")
    page.fill("#id_summary", "Ask the Secretary to act.")
    page.fill("#id_body", "Why it matters.")
    page.fill("#id_message_subject", "Protect aid workers now")
    page.fill("#id_thank_template", "Thank you for signing the letter.")
    page.fill("#id_urge_template", "Please join the letter.\n{policy_asks}")
    page.fill("#id_executive_template", "Please act now.\n{policy_asks}")
    page.uncheck("#id_double_opt_in")
    page.uncheck("#id_target_congress")
    page.locator(".field-targets .select2-selection").click()
    page.keyboard.type("Secretary")
    page.locator(".select2-results__option", has_text="Secretary of State").click()
    page.locator("#asks-group .add-row a").click()
    page.fill("#id_asks-0-position", "1")
    page.fill("#id_asks-0-title", "Guarantee safe passage")
    page.click("input[name=_continue]")

    campaign = Campaign.objects.get(slug="protect-aid-workers")
    assert campaign.status == Campaign.Status.DRAFT
    assert list(campaign.targets.all()) == [secretary]
    expect(page.locator(".campaign-readiness .ready")).to_have_text("Ready: nothing is missing.")

    # Preview as a constituent from a ZIP code: the exact message, and nothing created.
    page.get_by_role("link", name="Preview as a constituent").first.click()
    page.fill("#id_zip_code", "20001")
    page.fill("#id_city", "Washington")
    page.click("input[value=Preview]")
    official = page.locator("article.preview-official")
    expect(official).to_have_count(1)
    expect(official.locator(".variant")).to_have_text("executive")
    expect(official.locator(".preview-subject")).to_have_text("Protect aid workers now")
    body = official.locator(".preview-body").inner_text()
    assert body.startswith("Dear ")
    assert "Please act now.\n1. Guarantee safe passage" in body
    assert "Washington" in body
    assert (Action.objects.count(), Delivery.objects.count()) == (0, 0)

    # Its page, as staff see a draft; the public gets a 404.
    public_url = live_server.url + reverse("alerts:campaign_detail", args=[campaign.slug])
    page.goto(public_url)
    expect(page.locator(".preview-banner")).to_contain_text("Preview — not live")
    anonymous = page.context.browser.new_context()
    assert anonymous.new_page().goto(public_url).status == 404

    # Schedule it, starting in a few seconds.
    page.goto(live_server.url + reverse("admin:alerts_campaign_change", args=[campaign.pk]))
    starts = timezone.localtime().replace(microsecond=0) + dt.timedelta(seconds=4)
    page.fill("#id_starts_at_0", f"{starts:%Y-%m-%d}")
    page.fill("#id_starts_at_1", f"{starts:%H:%M:%S}")
    page.select_option("#id_status", "scheduled")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.starts_at) == (Campaign.Status.SCHEDULED, starts)
    assert anonymous.new_page().goto(public_url).status == 404

    # It goes live on its own: the beat's task, once its start time has come.
    while timezone.now() < starts:
        page.wait_for_timeout(100)
    assert tasks.advance_campaigns.apply().get() == {"went_live": 1, "closed": 0, "held": 0}
    visitor = anonymous.new_page()
    assert visitor.goto(public_url).status == 200
    expect(visitor.locator("form.journey")).to_be_visible()
    expect(visitor.locator(".preview-banner")).to_have_count(0)
    submit_actions(campaign, [secretary], 3)

    # Close it by hand, from the list of campaigns.
    page.goto(live_server.url + reverse("admin:alerts_campaign_changelist"))
    page.check(f"input.action-select[value='{campaign.pk}']")
    page.select_option("select[name=action]", "close_now")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 campaign(s) closed.")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.CLOSED

    # Its public page stays up, says it has ended, and gives the final count.
    visitor = anonymous.new_page()
    assert visitor.goto(public_url).status == 200
    expect(visitor.locator(".ended-notice h2")).to_have_text(
        re.compile(r"^This campaign ended on ")
    )
    expect(visitor.locator(".goal-count")).to_have_text("3 people took action.")
    expect(visitor.locator("form")).to_have_count(0)
    visitor.get_by_role("link", name=re.compile("campaigns open today")).click()
    expect(visitor).to_have_url(live_server.url + reverse("alerts:campaign_list"))
    anonymous.close()
    assert _violations(page) == []
