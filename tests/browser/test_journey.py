"""The constituent's whole journey in a real browser: address → officials → message → thanks,
with JavaScript and without, on a split ZIP, with errors, through the emailed confirmation link,
and on a 320 px wide screen.

Every step is screenshotted (test-output/screenshots/) and, where JavaScript runs, checked with
axe-core for serious and critical violations.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from alerts.messages import holder_name
from alerts.models import Action, Delivery
from alerts.operations.demo import demo_load
from legislators.models import Official
from tests.support.browser import axe_violations, format_violations, screenshot
from tests.support.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONSTITUENT = {
    "First name": "Ani",
    "Last name": "Petrosyan",
    "Email": "ani@example.org",
}
# ZIP 22201 lies wholly in VA-08.
ARLINGTON = {"Street address": "1000 N Glebe Rd", "City": "Arlington", "ZIP code": "22201"}
# ZIP 10001 is split between NY-10 and NY-12.
MANHATTAN = {"Street address": "350 5th Ave", "City": "New York", "ZIP code": "10001"}

VA_SENATORS = ("w000805", "k000384")  # Mark Warner, Tim Kaine
VA_08 = "b001292"  # Don Beyer
NY_10 = "g000599"  # Dan Goldman
NY_12 = "n000002"  # Jerrold Nadler
EXECUTIVES = (
    "us-president",
    "us-vice-president",
    "us-secretary-of-state",
    "us-ambassador-to-the-un",
)
DROPPED = "us-vice-president"  # the executive the journeys untick

SUBJECT = "Act now at the Security Council for Artsakh"
OWN_WORDS = "My grandparents were born in Stepanakert. Please do not look away."
# The code rides in the fragment (never sent to the server); the page copies it into its form.
CONFIRM_LINK_RE = re.compile(r"https?://\S+?/confirm/[^/\s]+/#code=[0-9A-Z-]+")
MAIL_TIMEOUT = 30
SANDBOX_EMAIL = "sandbox@organizers.example"  # as in tests/conftest.py


# --- fixtures ---


@pytest.fixture
def campaign(real_data):
    """The demo campaign on the real Congress and ZIP data: live, double opt-in on, Congress
    plus the four executive targets."""
    return demo_load()


@pytest.fixture
def no_opt_in_campaign(campaign):
    campaign.double_opt_in = False
    campaign.save()
    return campaign


@pytest.fixture
def campaign_url(live_server, campaign):
    return live_server.url + reverse("alerts:campaign_detail", args=[campaign.slug])


# --- helpers ---


def official(key) -> Official:
    return Official.objects.get(key=key)


def assert_accessible(page):
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


def submit(page, step):
    """Press the form's button `step` and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"button[value={step}]").click()


def fill_address(page, address, *, state, **overrides):
    """Step 1 through its labels, so each field must have one."""
    for label, value in {**CONSTITUENT, **address, **overrides}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("State", exact=True).select_option(state)


def checkbox(page, key):
    return page.locator(f"#official-{official(key).pk}")


def chosen_keys(action) -> set[str]:
    return set(action.deliveries.values_list("official__key", flat=True))


def thanked_officials(page) -> list[str]:
    """The names listed on the thank-you page under "It will go to N officials"."""
    return page.locator(
        "main p:has-text('It will go to') + ul > li .official-name"
    ).all_inner_texts()


def name_of(key) -> str:
    """As the thanks page names an official: an office whose holder is unverified, alone."""
    o = official(key)
    return " ".join(filter(None, [o.title, holder_name(o)]))


def arlington_journey(page, url, *, name, axe=True):
    """Steps 1-3 for ZIP 22201 with one executive unticked; returns the keys chosen.

    Leaves the page on the thank-you page.
    """
    page.goto(url)
    fill_address(page, ARLINGTON, state="VA")
    screenshot(page, f"{name}-step1")
    if axe:
        assert_accessible(page)
    submit(page, "address")

    # Step 2: both senators, the one representative and the four executives, all ticked.
    expected = (*VA_SENATORS, VA_08, *EXECUTIVES)
    boxes = page.locator("input[type=checkbox][name=officials]")
    expect(boxes).to_have_count(len(expected))
    for key in expected:
        expect(checkbox(page, key)).to_be_checked()
    assert page.locator("input[name=representative]").count() == 0  # not a split ZIP
    expect(page.get_by_text("Did not sign — urge them").first).to_be_visible()
    expect(page.get_by_text("Executive branch — ask them to act").first).to_be_visible()
    senator = official(VA_SENATORS[0])
    preview = page.locator("details.preview", has_text=f"The message {senator.name} will get")
    preview.locator("summary").click()
    expect(preview).to_have_attribute("open", "")
    expect(preview.locator(".preview-body")).to_be_visible()
    expect(preview.locator(".preview-body")).to_contain_text(f"Dear Senator {senator.last_name},")
    checkbox(page, DROPPED).uncheck()
    expect(checkbox(page, DROPPED)).not_to_be_checked()
    screenshot(page, f"{name}-step2")
    if axe:
        assert_accessible(page)
    submit(page, "officials")

    # Step 3: the message.
    chosen = {key for key in expected if key != DROPPED}
    expect(page.locator("p.writing-as")).to_contain_text(f"goes to {len(chosen)} officials")
    subject = page.locator("#id_subject")
    expect(subject).to_have_value(re.compile(r"\S"))  # the campaign's suggested subject
    subject.fill(SUBJECT)
    page.locator("#id_message").fill(OWN_WORDS)
    page.locator("#id_consent").check()
    screenshot(page, f"{name}-step3")
    if axe:
        assert_accessible(page)
    submit(page, "send")
    return chosen


def assert_thanks_lists(page, chosen):
    listed = thanked_officials(page)
    assert sorted(listed) == sorted(name_of(key) for key in chosen)
    expect(page.get_by_text(f"It will go to {len(chosen)} officials")).to_be_visible()


# --- the journeys ---


def test_full_journey_single_district_zip(page, campaign_url, broker_queue):
    chosen = arlington_journey(page, campaign_url, name="journey-single")

    # Step 4: thanks, and (double opt-in) the request to check the inbox.
    expect(page.get_by_role("heading", name="Thank you for taking action")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("check your email")
    assert_thanks_lists(page, chosen)
    screenshot(page, "journey-single-step4")
    assert_accessible(page)

    action = Action.objects.get()
    assert (action.subject, action.message) == (SUBJECT, OWN_WORDS)
    assert action.email == CONSTITUENT["Email"]
    assert chosen_keys(action) == chosen
    assert action.deliveries.count() == 6
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}


def test_split_zip_asks_which_representative(page, campaign_url, broker_queue):
    page.goto(campaign_url)
    fill_address(page, MANHATTAN, state="NY")
    screenshot(page, "journey-split-step1")
    assert_accessible(page)
    submit(page, "address")

    # Step 2: senators as checkboxes, the two candidate representatives as radios.
    fieldset = page.locator("fieldset.representative")
    expect(fieldset.locator("legend")).to_have_text("Which of these represents you?")
    nadler, goldman = official(NY_12), official(NY_10)
    radios = fieldset.locator("input[type=radio][name=representative]")
    expect(radios).to_have_count(3)  # NY-10, NY-12, "not sure"
    expect(fieldset.get_by_label(goldman.name)).to_have_value(str(goldman.pk))
    expect(fieldset.get_by_label(nadler.name)).to_have_value(str(nadler.pk))
    expect(fieldset.locator("#representative-none")).to_be_checked()
    assert page.locator(f"#official-{nadler.pk}, #official-{goldman.pk}").count() == 0
    fieldset.get_by_label(nadler.name).check()
    expect(fieldset.locator(f"#representative-{nadler.pk}")).to_be_checked()
    screenshot(page, "journey-split-step2")
    assert_accessible(page)
    submit(page, "officials")

    page.locator("#id_consent").check()
    screenshot(page, "journey-split-step3")
    assert_accessible(page)
    submit(page, "send")

    expect(page.get_by_role("heading", name="Thank you for taking action")).to_be_visible()
    expect(page.get_by_text(name_of(NY_12), exact=True)).to_be_visible()
    screenshot(page, "journey-split-step4")
    assert_accessible(page)

    action = Action.objects.get()
    assert action.deliveries.filter(official=nadler).exists()
    assert not action.deliveries.filter(official=goldman).exists()
    # Two NY senators, Nadler, four executives.
    assert action.deliveries.count() == 7


def test_journey_without_javascript(page_nojs, live_server, no_opt_in_campaign, broker_queue):
    url = live_server.url + reverse("alerts:campaign_detail", args=[no_opt_in_campaign.slug])
    chosen = arlington_journey(page_nojs, url, name="journey-nojs", axe=False)

    expect(page_nojs.get_by_role("status")).to_contain_text("Your message is on its way")
    expect(page_nojs.get_by_text("check your email")).to_have_count(0)
    assert_thanks_lists(page_nojs, chosen)
    screenshot(page_nojs, "journey-nojs-step4")

    action = Action.objects.get()
    assert chosen_keys(action) == chosen
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.QUEUED}


def test_errors_are_summarised_linked_and_nothing_is_stored(page, campaign_url):
    page.goto(campaign_url)
    fill_address(page, ARLINGTON, state="VA", **{"First name": "", "Email": "ani@"})
    submit(page, "address")

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Please fix the following:")
    first_name_link = summary.locator('a[href="#id_first_name"]')
    email_link = summary.locator('a[href="#id_email"]')
    expect(first_name_link).to_contain_text("First name")
    expect(email_link).to_contain_text("Email")

    # Each error is next to its field, and the field points at it.
    for name in ("first_name", "email"):
        field = page.locator(f"#id_{name}")
        error = page.locator(f"#id_{name}_error")
        expect(error).to_be_visible()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", f"id_{name}_error")
        assert page.locator(f".field.has-error:has(#id_{name}) #id_{name}_error").count() == 1
    expect(page.locator("#id_first_name_error")).to_have_text("This field is required.")
    expect(page.locator("#id_email_error")).to_contain_text("valid email")
    # What was typed is kept.
    expect(page.locator("#id_email")).to_have_value("ani@")
    expect(page.locator("#id_zip_code")).to_have_value("22201")
    screenshot(page, "journey-errors-step1")
    assert_accessible(page)

    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    email_link.click()
    expect(page.locator("#id_email")).to_be_focused()
    expect(page.locator("#id_email")).to_be_in_viewport()
    screenshot(page, "journey-errors-step1-link")

    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_confirming_through_the_emailed_link_sends_to_each_official(
    page, campaign_url, sandbox_celery_worker, smtp_sink, live_server
):
    chosen = arlington_journey(page, campaign_url, name="journey-confirm")
    expect(page.get_by_role("status")).to_contain_text("check your email")
    screenshot(page, "journey-confirm-step4")
    assert_accessible(page)
    action = Action.objects.get()

    def confirmation_mail():
        mails = [m for m in smtp_sink.messages() if m.rcpt_tos == [action.email]]
        return mails[0] if mails else None

    mail = wait_until(confirmation_mail, timeout=MAIL_TIMEOUT, message="the confirmation email")
    assert mail.message["To"] == action.email
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    link = CONFIRM_LINK_RE.search(body)
    assert link, body
    assert link.group(0).startswith(live_server.url + "/confirm/")

    response = page.goto(link.group(0))
    assert response.status == 200
    button = page.get_by_role("button", name="Confirm and send")
    expect(button).to_be_visible()
    # Opening the link confirms nothing: the deliveries still wait, nothing went out.
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    assert [m for m in smtp_sink.messages() if m.rcpt_tos == [SANDBOX_EMAIL]] == []
    action.refresh_from_db()
    assert action.confirmed_at is None
    screenshot(page, "journey-confirm-link")
    assert_accessible(page)

    with page.expect_navigation():
        button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your message is on its way"
    )
    expect(page.get_by_text(f"We are sending it to {len(chosen)} officials now.")).to_be_visible()
    screenshot(page, "journey-confirm-done")
    assert_accessible(page)

    def sandboxed():
        mails = [m for m in smtp_sink.messages() if m.rcpt_tos == [SANDBOX_EMAIL]]
        return mails if len(mails) >= len(chosen) else None

    mails = wait_until(sandboxed, timeout=MAIL_TIMEOUT, message="one sandbox email per official")
    assert len(mails) == len(chosen)
    assert all(m.message["To"] == SANDBOX_EMAIL for m in mails)
    assert sorted(m.message["X-Official-Id"] for m in mails) == sorted(chosen)
    wait_until(
        lambda: set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT},
        timeout=MAIL_TIMEOUT,
        message="every delivery marked sent",
    )
    # Only the confirmation and the sandboxed deliveries reached the sink.
    assert len(smtp_sink.messages()) == 1 + len(chosen)


def test_usable_at_320px(browser, campaign_url):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(campaign_url)
        fill_address(page, ARLINGTON, state="VA")
        assert_fits(page, "address")
        screenshot(page, "journey-320-step1")
        submit(page, "address")

        expect(page.locator("input[name=officials]").first).to_be_visible()
        assert_fits(page, "officials")
        screenshot(page, "journey-320-step2")
    finally:
        context.close()


def assert_fits(page, step):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"horizontal scroll on the {step} step: {width}px wide"
    button = page.locator(f"button[value={step}]")
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    expect(button).to_be_in_viewport(ratio=1)
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
