"""Every office a constituent of ZIP 08854 (Piscataway, NJ) picks, reached the best way there
is, with the sandbox off and every channel pointed at loopback: the representative by the
House's CWC (a fake), one senator by the Senate's CWC (a fake validating the Senate grammar),
the other and the President by their web forms (replicas filled by a real Chromium in a
browser worker), the rest left to the constituent with phone numbers; and the thank-you page
saying which, per official."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from alerts.delivery.webforms import runner, values
from alerts.models import Action, Delivery
from alerts.operations.demo import demo_load
from legislators import contact_forms
from legislators.models import ContactForm, Official, SenateCwcOffice
from tests.support.browser import screenshot
from tests.support.fixtures import server_fixture
from tests.support.processes import CeleryWorker, wait_until, worker_env
from tests.support.receivers import HttpReceiver
from tests.support.replicas import ReplicaServer
from tests.support.scwc import ScwcFake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUSE_KEY = "house-key"
SENATE_KEY = "test-key"  # what the fake expects
AGENT_EMAIL = "operator@advocates.example"
BOOKER, KIM = "B001288", "K000394"  # Kim's definition does not parse: his seat goes by SCWC
WAIT = 90

house_cwc = server_fixture(HttpReceiver)
senate_cwc = server_fixture(ScwcFake, "The Senate's CWC, validating every message.")


@pytest.fixture
def replicas():
    server = ReplicaServer().start()
    yield server
    runner.close()
    server.stop()


@pytest.fixture
def reach_settings(settings, house_cwc, senate_cwc, replicas, tmp_path):
    """What the web process (routing) and the workers (sending) both see."""
    values_ = {
        "DELIVERY_SANDBOX": False,
        "CWC_API_URL": house_cwc.url,
        "CWC_API_KEY": HOUSE_KEY,
        "CWC_DELIVERY_AGENT_EMAIL": AGENT_EMAIL,
        "SENATE_CWC_URL": senate_cwc.url,
        "SENATE_CWC_API_KEY": SENATE_KEY,
        "CONTACT_FORMS_ORIGIN": replicas.origin,
        "WEB_FORM_WAIT_CAP_SECONDS": 0,
        "WEB_FORM_EVIDENCE_DIR": tmp_path / "evidence",
    }
    for name, value in values_.items():
        setattr(settings, name, value)
    return values_


@pytest.fixture
def campaign(real_data, reach_settings, replicas):
    campaign = demo_load()
    campaign.double_opt_in = False
    campaign.save()
    contact_forms.contact_forms_import(settings.CONTACT_FORMS_DIR)
    kim = Official.objects.get(legislator__bioguide_id=KIM)
    SenateCwcOffice.objects.create(
        office_code=kim.cwc_office, name="Andy Kim", bioguide_id=KIM, refreshed_at=timezone.now()
    )
    for key, form in (
        (BOOKER, ContactForm.objects.get(official__legislator__bioguide_id=BOOKER)),
        ("us-president", ContactForm.objects.get(official__key="us-president")),
    ):
        plan = values.plan(form.definition, values.test_identity(), origin=replicas.origin)
        replicas.add(key, form.definition, plan)
    return campaign


@pytest.fixture
def workers(campaign, reach_settings, smtp_sink, broker_queue):
    """A delivery worker and a browser worker, as production runs them."""
    env = worker_env(
        EMAIL_URL=smtp_sink.url,
        **{
            name: str(value) for name, value in reach_settings.items() if name != "DELIVERY_SANDBOX"
        },
    )
    mail = CeleryWorker(env, name="mail").start(timeout=WAIT)
    browser = CeleryWorker(
        env, name="browser", concurrency=1, queues=[settings.WEB_FORM_QUEUE]
    ).start(timeout=WAIT)
    yield
    browser.stop()
    mail.stop()


def _statuses(action):
    return {d.official.key: d for d in action.deliveries.select_related("official")}


def test_zip_08854_every_office_reached_the_best_way_and_the_thanks_page_says_how(
    campaign, workers, live_server, page, house_cwc, senate_cwc, replicas
):
    page.goto(live_server.url + reverse("alerts:campaign_detail", args=[campaign.slug]))
    for label, value in {
        "First name": "Ani",
        "Last name": "Petrosyan",
        "Email": "ani@example.org",
        "Street address": "1 Centennial Ave",
        "City": "Piscataway",
        "ZIP code": "08854",
    }.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("State", exact=True).select_option("NJ")
    page.locator("button[value=address]").click()

    # Every official kept; a split ZIP asks for the representative: Frank Pallone (NJ-06).
    pallone = Official.objects.get(legislator__bioguide_id="P000034")
    choice = page.locator(f"#representative-{pallone.pk}")
    if choice.count():
        choice.check()
    expect(page.get_by_text("We send it for you through the Senate's CWC system.")).to_be_visible()
    screenshot(page, "reach-08854-officials")
    page.locator("button[value=officials]").click()

    # The Senate's CWC takes only some titles: asked, not guessed.
    page.get_by_label("Your title, for the Senate").select_option("Ms.")
    if page.get_by_label("Phone number").count():
        page.get_by_label("Phone number").fill("732-555-0142")
    page.locator("#id_consent").check()
    page.locator("button[value=send]").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    action = Action.objects.get()
    assert action.prefix == "Ms."
    ways = {key: d.channel for key, d in _statuses(action).items()}
    assert ways[pallone.key] == "cwc"
    kim = Official.objects.get(legislator__bioguide_id=KIM)
    booker = Official.objects.get(legislator__bioguide_id=BOOKER)
    assert (ways[kim.key], ways[booker.key], ways["us-president"]) == (
        "cwc",
        "web_form",
        "web_form",
    )
    manual = ("us-vice-president", "us-secretary-of-state", "us-ambassador-to-the-un")
    assert all(ways[key] == "contact_form" for key in manual)

    def all_settled():
        return not action.deliveries.filter(
            status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]
        ).exists()

    wait_until(all_settled, timeout=WAIT, message="every automatic delivery settled")
    statuses = {key: d.status for key, d in _statuses(action).items()}
    errors = {key: d.last_error for key, d in _statuses(action).items() if d.last_error}
    assert statuses[pallone.key] == statuses[kim.key] == "sent", errors
    assert statuses[booker.key] == statuses["us-president"] == "sent", errors
    assert all(statuses[key] == "manual" for key in manual)
    [house] = house_cwc.requests()
    assert b"<MemberOffice>HNJ06</MemberOffice>" in house.body
    [senate] = senate_cwc.requests()
    assert f"<MemberOffice>{kim.cwc_office}</MemberOffice>".encode() in senate.body
    assert b"<Prefix>Ms.</Prefix>" in senate.body
    [booker_post] = replicas.submitted(BOOKER)
    assert "Petrosyan" in str(booker_post.fields)
    [president_post] = replicas.submitted("us-president")
    assert "Petrosyan" in str(president_post.fields)

    page.reload()
    text = page.locator("main").inner_text()
    screenshot(page, "reach-08854-thanks")
    assert "accepted by the House's CWC system" in text
    assert "accepted by the Senate's CWC system" in text
    assert text.count("submitted through the office's web form (confirmation page seen)") == 2
    assert text.count("please send this one yourself") == 3
    for number in ("202-456-1111", "202-647-4000", "212-415-4000"):
        assert page.locator(f'a[href^="tel:"]:has-text("{number}")').count() >= 1
