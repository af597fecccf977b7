"""The campaign admin as a console: the status field and the "Schedule", "Go live now" and
"Close now" actions go through the lifecycle's checks (reasons next to the field); staff preview
any campaign as a constituent from a ZIP code, creating nothing; "Clone" copies a campaign with
its asks, targets, letters and cosigners, and nothing constituents did."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Action, ActionCount, Call, Campaign, Cosignature, Delivery, Letter
from alerts.selectors import SAMPLE_SENDER
from alerts.services import action_submit, campaign_clone
from alerts.web import recent
from legislators.models import Official
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    CosignatureFactory,
    DeliveryFactory,
    LetterFactory,
    OfficialFactory,
    PolicyAskFactory,
)
from tests.support.admin_forms import change_form_post
from tests.support.broker import published_tasks
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

Status = Campaign.Status
NO_ASKS = "It has no policy asks: add at least one under “Policy asks”."


def complete(**fields) -> Campaign:
    fields = {"status": Status.DRAFT, "starts_at": None, "ends_at": None, **fields}
    campaign = CampaignFactory(targets=[OfficialFactory(title="Secretary of State")], **fields)
    PolicyAskFactory(campaign=campaign, position=1, title="Protect civilians")
    return campaign


def _change_url(campaign):
    return reverse("admin:alerts_campaign_change", args=[campaign.pk])


def _status_row(html: str) -> str:
    """The status field's row of the change form, its errors included."""
    start = html.index("field-status")
    return html[start : html.index("field-starts_at", start)]


# The status field ---------------------------------------------------------------------------


def test_an_incomplete_campaign_is_not_saved_live_and_the_reasons_are_next_to_the_field(
    admin_client,
):
    campaign = CampaignFactory(status=Status.DRAFT, title="Before", target_congress=False)
    data = change_form_post(admin_client, campaign, status="live", title="After")

    response = admin_client.post(_change_url(campaign), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [
        NO_ASKS,
        "It has no one to write to: tick “target the constituent's members of Congress”, or "
        "add fixed targets.",
    ]
    assert NO_ASKS in _status_row(response.content.decode())
    campaign.refresh_from_db()
    assert (campaign.status, campaign.title) == (Status.DRAFT, "Before")


def test_a_complete_campaign_saved_live_goes_live_now(admin_client, client):
    campaign = complete()
    response = admin_client.post(
        _change_url(campaign), change_form_post(admin_client, campaign, status="live")
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE
    assert campaign.starts_at <= timezone.now()  # the service started it
    assert client.get(reverse("alerts:campaign_detail", args=[campaign.slug])).status_code == 200


def test_asks_added_in_the_same_save_count(admin_client):
    campaign = complete()
    campaign.asks.all().delete()
    starts = timezone.localtime() + dt.timedelta(days=1)
    data = change_form_post(
        admin_client,
        campaign,
        status="scheduled",
        starts_at_0=f"{starts:%Y-%m-%d}",
        starts_at_1=f"{starts:%H:%M:%S}",
    )
    data.update(
        {"asks-TOTAL_FORMS": "1", "asks-0-position": "1", "asks-0-title": "Halt the transfers"}
    )

    assert admin_client.post(_change_url(campaign), data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Status.SCHEDULED
    assert [a.title for a in campaign.asks.all()] == ["Halt the transfers"]


def test_removing_a_live_campaigns_last_ask_is_refused(admin_client):
    campaign = complete(status=Status.LIVE, starts_at=timezone.now() - dt.timedelta(days=1))
    data = change_form_post(admin_client, campaign, **{"asks-0-DELETE": "on"})

    response = admin_client.post(_change_url(campaign), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [NO_ASKS]
    assert campaign.asks.count() == 1


def test_a_move_the_lifecycle_does_not_allow_is_refused(admin_client):
    campaign = complete(status=Status.LIVE, starts_at=timezone.now() - dt.timedelta(days=1))
    response = admin_client.post(
        _change_url(campaign), change_form_post(admin_client, campaign, status="draft")
    )
    assert response.context["adminform"].form.errors["status"] == [
        "A live campaign cannot become draft."
    ]
    assert Campaign.objects.get(pk=campaign.pk).status == Status.LIVE


def test_live_with_a_start_ahead_is_refused_as_it_would_be_scheduled(admin_client):
    campaign = complete()
    starts = timezone.localtime() + dt.timedelta(days=1)
    data = change_form_post(
        admin_client,
        campaign,
        status="live",
        starts_at_0=f"{starts:%Y-%m-%d}",
        starts_at_1=f"{starts:%H:%M:%S}",
    )
    response = admin_client.post(_change_url(campaign), data)
    assert response.context["adminform"].form.errors["status"] == [
        "Its start time (“Starts at”) is ahead: choose “Scheduled” to go live then, or clear it "
        "to go live now."
    ]


def test_the_change_page_says_what_is_missing_and_links_the_preview(admin_client):
    incomplete = CampaignFactory(status=Status.DRAFT, target_congress=False)
    html = admin_client.get(_change_url(incomplete)).content.decode()
    assert "Not ready to be scheduled or go live:" in html
    assert f"<li>{NO_ASKS}</li>" in html
    assert reverse("admin:alerts_campaign_preview", args=[incomplete.pk]) in html
    assert reverse("admin:alerts_campaign_clone", args=[incomplete.pk]) in html
    # Django's "View on site", to the public page (which staff see even for a draft).
    assert f'href="{reverse("alerts:campaign_detail", args=[incomplete.slug])}"' in html

    html = admin_client.get(_change_url(complete())).content.decode()
    assert "Ready: nothing is missing." in html


# The actions -----------------------------------------------------------------------------------


def _act(client, action, *campaigns):
    return client.post(
        reverse("admin:alerts_campaign_changelist"),
        {"action": action, "_selected_action": [c.pk for c in campaigns]},
        follow=True,
    )


def test_go_live_now_moves_the_complete_and_names_why_not_for_the_others(admin_client):
    ready = complete()
    not_ready = CampaignFactory(status=Status.DRAFT, title="Half done", target_congress=False)
    not_ready.targets.add(OfficialFactory())

    response = _act(admin_client, "go_live_now", ready, not_ready)

    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["1 campaign(s) live now.", f"“Half done” was not changed: {NO_ASKS}"]
    assert Campaign.objects.get(pk=ready.pk).status == Status.LIVE
    assert Campaign.objects.get(pk=not_ready.pk).status == Status.DRAFT


def test_schedule_then_close_now(admin_client):
    campaign = complete(starts_at=timezone.now() + dt.timedelta(hours=2))
    _act(admin_client, "schedule", campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SCHEDULED
    _act(admin_client, "close_now", campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.CLOSED


def test_schedule_without_a_start_time_says_so(admin_client):
    campaign = complete(title="No date")
    response = _act(admin_client, "schedule", campaign)
    assert [str(m) for m in response.context["messages"]] == [
        "“No date” was not changed: A scheduled campaign needs a start time (“Starts at”)."
    ]


# Clone -------------------------------------------------------------------------------------------


@pytest.fixture
def rich_campaign():
    """A live campaign with everything a clone copies and everything it must not."""
    executive = OfficialFactory(title="Secretary of State")
    campaign = CampaignFactory(
        slug="stop-the-transfers",
        title="Stop the transfers",
        targets=[executive, OfficialFactory(title="UN Ambassador")],
        target_congress=True,
        goal=5000,
        allowed_origins="https://partner.example",
        call_script_thank="Thank you, {official_title}.",
        ends_at=timezone.now() + dt.timedelta(days=10),
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Halt", detail="Now.")
    PolicyAskFactory(campaign=campaign, position=2, title="Protect", detail="")
    for n in range(2):
        letter = LetterFactory(campaign=campaign, title=f"Letter {n}", summary=f"Summary {n}")
        CosignatureFactory(letter=letter, role=Cosignature.Role.LEAD)
        CosignatureFactory.create_batch(3, letter=letter)
    action = ActionFactory(campaign=campaign)
    DeliveryFactory(action=action, official=executive)
    ActionCount.objects.create(campaign=campaign, slot=0, actions=1)
    Call.objects.create(campaign=campaign, official=executive, action=action, outcome="spoke")
    return campaign


def _letters(campaign):
    return [
        (
            letter.title,
            letter.sent_on,
            letter.recipients,
            letter.summary,
            letter.source_url,
            sorted((c.legislator_id, c.role) for c in letter.cosignatures.all()),
        )
        for letter in campaign.letters.order_by("title")
    ]


def _asks(campaign):
    return [(a.position, a.title, a.detail) for a in campaign.asks.all()]


SKIPPED = {"id", "slug", "title", "status", "starts_at", "ends_at", "created_at", "updated_at"}


def test_clone_copies_everything_and_nothing_more(rich_campaign):
    original = rich_campaign
    counts = (Action.objects.count(), Delivery.objects.count(), Call.objects.count())

    copy = campaign_clone(campaign=original)

    copy.refresh_from_db()
    assert (copy.slug, copy.title, copy.status) == (
        "stop-the-transfers-copy",
        "Copy of Stop the transfers",
        Status.DRAFT,
    )
    assert (copy.starts_at, copy.ends_at) == (None, None)
    for field in Campaign._meta.concrete_fields:
        if field.name not in SKIPPED:
            assert getattr(copy, field.attname) == getattr(original, field.attname), field.name
    assert set(copy.targets.all()) == set(original.targets.all())
    assert _asks(copy) == _asks(original) == [(1, "Halt", "Now."), (2, "Protect", "")]
    assert _letters(copy) == _letters(original)
    assert not set(copy.letters.all()) & set(original.letters.all())  # rows of its own
    assert Cosignature.objects.filter(letter__campaign=copy).count() == 8
    # Nothing constituents did, and the original's untouched.
    assert not Action.objects.filter(campaign=copy).exists()
    assert not Delivery.objects.filter(action__campaign=copy).exists()
    assert not ActionCount.objects.filter(campaign=copy).exists()
    assert not Call.objects.filter(campaign=copy).exists()
    assert (Action.objects.count(), Delivery.objects.count(), Call.objects.count()) == counts
    assert Letter.objects.filter(campaign=original).count() == 2


def test_clones_take_the_next_free_slug(rich_campaign):
    slugs = [campaign_clone(campaign=rich_campaign).slug for _ in range(3)]
    assert slugs == [
        "stop-the-transfers-copy",
        "stop-the-transfers-copy-2",
        "stop-the-transfers-copy-3",
    ]


def test_clone_from_the_change_page_asks_then_opens_the_copy(admin_client, rich_campaign):
    url = reverse("admin:alerts_campaign_clone", args=[rich_campaign.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Copy of Stop the transfers" in page.content.decode()
    assert not Campaign.objects.filter(slug="stop-the-transfers-copy").exists()  # GET: nothing

    response = admin_client.post(url)

    copy = Campaign.objects.get(slug="stop-the-transfers-copy")
    assert response.status_code == 302 and response.url == _change_url(copy)
    assert _letters(copy) == _letters(rich_campaign)


def test_the_clone_action(admin_client, rich_campaign):
    response = _act(admin_client, "clone", rich_campaign)
    copy = Campaign.objects.get(slug="stop-the-transfers-copy")
    [message] = [str(m) for m in response.context["messages"]]
    assert message == (
        f"“Stop the transfers” cloned as a new draft: "
        f'<a href="{_change_url(copy)}">Copy of Stop the transfers</a>.'
    )


# Preview ---------------------------------------------------------------------------------------


@pytest.fixture
def va_campaign(real_data):
    """A draft to Virginians' members of Congress and the Secretary of State, one senator of
    whom signed its letter."""
    senators = list(
        Official.objects.filter(
            legislator__chamber="senate", legislator__state="VA", legislator__in_office=True
        ).order_by("legislator__bioguide_id")
    )
    secretary = OfficialFactory(title="Secretary of State", name="Alex Stone", last_name="Stone")
    campaign = CampaignFactory(
        status=Status.DRAFT,
        target_congress=True,
        targets=[secretary],
        message_subject="Protect civilians, from {constituent_city}",
        suggested_message="I live in {constituent_city} and I ask you to act.",
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Halt the transfers")
    CosignatureFactory(letter=LetterFactory(campaign=campaign), legislator=senators[0].legislator)
    return campaign, senators, secretary


def _preview_url(campaign, **query):
    url = reverse("admin:alerts_campaign_preview", args=[campaign.pk])
    return url, query


def test_the_preview_shows_each_official_and_its_exact_message_and_creates_nothing(
    admin_client, va_campaign, broker_queue
):
    campaign, senators, secretary = va_campaign
    url, query = _preview_url(campaign, zip_code="22201", street="1 Main St", city="Arlington")

    page = admin_client.get(url, query)

    assert page.status_code == 200
    previews = page.context["previews"]
    variants = {p.official: p.message.variant for p in previews}
    [representative] = [p.official for p in previews if p.official.title == "Representative"]
    assert variants == {
        senators[0]: "thank",
        senators[1]: "urge",
        representative: "urge",
        secretary: "executive",
    }
    # Nothing written, nothing published.
    assert (Action.objects.count(), Delivery.objects.count()) == (0, 0)
    assert published_tasks(broker_queue) == []
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT

    html = page.content.decode()
    for preview in previews:
        assert preview.message.subject == "Protect civilians, from Arlington"
        assert str(preview.message.body).replace("'", "&#x27;") in html.replace("&quot;", '"')

    # The same constituent sending the suggested subject and words gets exactly these messages.
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.LIVE)
    campaign.refresh_from_db()
    sender = {**SAMPLE_SENDER, "street": "1 Main St", "city": "Arlington", "state": "VA"}
    sender["zip_code"] = "22201"
    submitted = action_submit(
        campaign=campaign,
        constituent=sender,
        subject=page.context["subject"],
        message="I live in Arlington and I ask you to act.",
        officials=[p.official for p in previews],
        consent_text="I agree.",
    )
    sent = {d.official: (d.subject, d.body) for d in submitted.action.deliveries.all()}
    assert sent == {p.official: (p.message.subject, p.message.body) for p in previews}


def test_an_unknown_zip_is_an_error_next_to_the_field(admin_client, va_campaign):
    campaign, *_ = va_campaign
    url, query = _preview_url(campaign, zip_code="00000")
    page = admin_client.get(url, query)
    assert page.status_code == 200
    assert page.context["form"].errors["zip_code"] == [
        "We could not find ZIP code 00000. Check it, or use the ZIP of your home address."
    ]
    assert page.context["previews"] == []


def test_the_preview_lists_what_is_missing(admin_client):
    campaign = CampaignFactory(status=Status.DRAFT, target_congress=False)
    page = admin_client.get(reverse("admin:alerts_campaign_preview", args=[campaign.pk]))
    assert NO_ASKS in page.content.decode()


def test_the_preview_is_for_staff_only(client, va_campaign):
    campaign, *_ = va_campaign
    user = User.objects.create_user("someone", "someone@example.org", "x")
    client.force_login(user)
    response = client.get(reverse("admin:alerts_campaign_preview", args=[campaign.pk]))
    assert response.status_code == 302 and "/login/" in response.url


# The public page, for staff --------------------------------------------------------------------


@pytest.fixture
def draft(email_officials):
    campaign = CampaignFactory(status=Status.DRAFT, targets=email_officials)
    PolicyAskFactory(campaign=campaign)
    return campaign


@pytest.fixture
def kept_a_while(settings):
    """Public pages reused for a minute, so that a preview kept for the public would show."""
    settings.PUBLIC_CACHE_SECONDS = 60
    recent.forget()
    yield
    recent.forget()


def test_staff_see_a_drafts_page_under_a_banner_and_the_public_still_gets_a_404(
    admin_client, client, draft, kept_a_while
):
    for url in (
        reverse("alerts:campaign_detail", args=[draft.slug]),
        reverse("alerts:campaign_embed", args=[draft.slug]),
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert "Preview — not live" in page.content.decode()
        assert client.get(url).status_code == 404
    live = CampaignFactory(targets=list(draft.targets.all()))
    html = client.get(reverse("alerts:campaign_detail", args=[live.slug])).content.decode()
    assert "Preview — not live" not in html


def test_staff_without_their_second_factor_get_the_404(client, draft, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("alerts:campaign_detail", args=[draft.slug])).status_code == 404


def test_a_preview_walks_the_steps_but_sends_nothing(
    admin_client, draft, email_officials, broker_queue, kept_a_while
):
    url = reverse("alerts:campaign_detail", args=[draft.slug])
    officials_page = admin_client.post(url, {**action_post(email_officials), "step": "address"})
    assert officials_page.status_code == 200
    assert "Preview — not live" in officials_page.content.decode()

    sent = admin_client.post(url, action_post(email_officials))

    assert sent.status_code == 200
    html = sent.content.decode()
    assert "This is a preview of a campaign that is not live: nothing was sent." in html
    assert (Action.objects.count(), Delivery.objects.count()) == (0, 0)
    assert published_tasks(broker_queue) == []
    assert Client().get(url).status_code == 404


def test_the_preview_reads_as_many_rows_for_six_targets_as_for_two(admin_client):
    def queries(targets: int) -> int:
        campaign = CampaignFactory(
            status=Status.DRAFT,
            targets=[OfficialFactory(title=f"Envoy {n}") for n in range(targets)],
        )
        PolicyAskFactory(campaign=campaign)
        url = reverse("admin:alerts_campaign_preview", args=[campaign.pk])
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url, {"zip_code": "20001"})
        assert len(page.context["previews"]) == targets
        return len(captured)

    assert queries(6) == queries(2)


@pytest.mark.parametrize("page", ["dashboard", "preview", "clone"])
def test_a_campaigns_own_page_leads_back_to_it_in_its_breadcrumbs(admin_client, page):
    campaign = CampaignFactory(title="Breadcrumb campaign")
    html = admin_client.get(reverse(f"admin:alerts_campaign_{page}", args=[campaign.pk]))
    crumbs = html.content.decode().split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
    change = reverse("admin:alerts_campaign_change", args=[campaign.pk])
    assert f'href="{change}">Breadcrumb campaign</a>' in crumbs
    assert crumbs.rstrip().endswith(f"&rsaquo; {page.capitalize()}")
