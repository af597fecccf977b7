"""A campaign's lifecycle: draft → scheduled → live → closed, by hand (the services the admin
calls) and by beat at its start and end times, never incomplete when scheduled or live."""

import datetime as dt
import itertools
import logging

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from alerts import tasks
from alerts.models import CAMPAIGN_TRANSITIONS, Campaign, PolicyAsk
from alerts.selectors import campaign_move_problems, campaign_problems
from alerts.services import CampaignMoveRefused, campaign_status_set, campaigns_advance
from tests.factories import (
    CampaignFactory,
    CosignatureFactory,
    LetterFactory,
    OfficialFactory,
    PolicyAskFactory,
)

pytestmark = pytest.mark.django_db

Status = Campaign.Status
NOW = timezone.now().replace(microsecond=0)
STARTS = NOW + dt.timedelta(hours=1)
ENDS = NOW + dt.timedelta(days=3)


def complete(**fields) -> Campaign:
    """A campaign with all it needs to go live: an ask, an executive target, its statements."""
    fields = {"status": Status.DRAFT, "starts_at": STARTS, "ends_at": ENDS, **fields}
    campaign = CampaignFactory(targets=[OfficialFactory(title="Secretary of State")], **fields)
    PolicyAskFactory(campaign=campaign, position=1, title="Protect civilians")
    return campaign


def status_in_db(campaign) -> str:
    return Campaign.objects.get(pk=campaign.pk).status


ALL_MOVES = [(s, t) for s, t in itertools.product(Status.values, Status.values) if s != t]
ALLOWED = [(s, t) for s, t in ALL_MOVES if t in CAMPAIGN_TRANSITIONS[s]]
REFUSED = [(s, t) for s, t in ALL_MOVES if t not in CAMPAIGN_TRANSITIONS[s]]


def test_the_table_is_the_lifecycle():
    assert set(ALLOWED) == {
        ("draft", "scheduled"),
        ("draft", "live"),
        ("scheduled", "draft"),
        ("scheduled", "live"),
        ("scheduled", "closed"),
        ("live", "closed"),
        ("closed", "live"),
    }


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_every_allowed_move_is_made(source, target):
    campaign = complete(status=source, ends_at=None if source == "closed" else ENDS)
    before = campaign.updated_at

    moved = campaign_status_set(campaign=campaign, status=target, now=NOW)

    assert status_in_db(campaign) == target == moved.status
    # A new updated_at: the page's cached copy (keyed by it) is not served again.
    assert Campaign.objects.get(pk=campaign.pk).updated_at > before


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_every_other_move_is_refused_and_changes_nothing(source, target):
    campaign = complete(status=source)
    before = Campaign.objects.get(pk=campaign.pk)

    with pytest.raises(CampaignMoveRefused) as refused:
        campaign_status_set(campaign=campaign, status=target, now=NOW)

    label = {value: label.lower() for value, label in Status.choices}
    assert refused.value.reasons == [f"A {label[source]} campaign cannot become {label[target]}."]
    after = Campaign.objects.get(pk=campaign.pk)
    assert (after.status, after.updated_at) == (before.status, before.updated_at)


def test_going_live_by_hand_starts_it_now_and_shows_its_page(client):
    campaign = complete()
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    assert client.get(url).status_code == 404

    campaign_status_set(campaign=campaign, status=Status.LIVE)

    campaign.refresh_from_db()
    assert campaign.starts_at <= timezone.now()
    assert campaign.ends_at == ENDS
    assert client.get(url).status_code == 200


def test_closing_by_hand_ends_it_now():
    campaign = complete(status=Status.LIVE, starts_at=NOW - dt.timedelta(days=1))
    campaign_status_set(campaign=campaign, status=Status.CLOSED, now=NOW)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.ends_at) == (Status.CLOSED, NOW)


def test_a_closed_campaign_reopens_only_with_its_end_ahead():
    campaign = complete(status=Status.LIVE, starts_at=NOW - dt.timedelta(days=1))
    campaign_status_set(campaign=campaign, status=Status.CLOSED, now=NOW)

    with pytest.raises(CampaignMoveRefused) as refused:
        campaign_status_set(campaign=campaign, status=Status.LIVE, now=NOW)
    assert refused.value.reasons == [
        "Its end time (“Ends at”) has passed: set a later one, or clear it."
    ]
    Campaign.objects.filter(pk=campaign.pk).update(ends_at=ENDS)
    campaign_status_set(campaign=campaign, status=Status.LIVE, now=NOW)
    assert status_in_db(campaign) == Status.LIVE


def test_scheduling_needs_a_start_time():
    campaign = complete(starts_at=None)
    with pytest.raises(CampaignMoveRefused) as refused:
        campaign_status_set(campaign=campaign, status=Status.SCHEDULED, now=NOW)
    assert refused.value.reasons == ["A scheduled campaign needs a start time (“Starts at”)."]
    assert status_in_db(campaign) == Status.DRAFT


# What is missing ------------------------------------------------------------------------------


def test_a_complete_campaign_has_no_problems():
    assert campaign_problems(complete()) == []


def test_a_campaign_writing_to_legislators_with_its_letter_and_signers_has_none():
    campaign = complete(target_congress=True)
    letter = LetterFactory(campaign=campaign)
    CosignatureFactory(letter=letter)
    assert campaign_problems(campaign) == []


def test_each_thing_missing_is_named():
    campaign = CampaignFactory(status=Status.DRAFT, target_congress=False)
    assert campaign_problems(campaign) == [
        "It has no policy asks: add at least one under “Policy asks”.",
        "It has no one to write to: tick “target the constituent's members of Congress”, or "
        "add fixed targets.",
    ]


def test_legislators_need_a_letter_with_cosigners():
    campaign = complete(target_congress=True)
    assert campaign_problems(campaign) == [
        "It writes to legislators but has no letter: add the letter with its date and "
        "cosigners (Letters), so that those who signed are thanked and the others urged."
    ]
    LetterFactory(campaign=campaign, title="Letter to the Secretary")
    assert campaign_problems(campaign) == [
        "The letter “Letter to the Secretary” has no cosigners yet: match them (Letters)."
    ]


def test_an_inactive_target_is_named():
    campaign = complete()
    gone = OfficialFactory(title="Special Envoy", name="Pat Gone", is_active=False)
    campaign.targets.add(gone)
    assert campaign_problems(campaign) == [
        "Its target Special Envoy Pat Gone is inactive: remove it or make it active."
    ]


def test_a_statement_that_would_not_render_is_refused_with_the_reason():
    campaign = complete(target_congress=True)
    CosignatureFactory(letter=LetterFactory(campaign=campaign))
    # Saved past the form's validation, as an old row or a bulk update could be.
    Campaign.objects.filter(pk=campaign.pk).update(
        urge_template="Please sign, {official_nickname}.", executive_template="  "
    )
    campaign.refresh_from_db()
    problems = campaign_problems(campaign)
    assert "The statement to executive officials is empty." in problems
    assert any(
        p.startswith("Statement to non-signers: Unknown placeholder {official_nickname}")
        for p in problems
    ), problems
    with pytest.raises(CampaignMoveRefused) as refused:
        campaign_status_set(campaign=campaign, status=Status.LIVE)
    assert refused.value.reasons == problems
    assert status_in_db(campaign) == Status.DRAFT


def test_a_statement_only_legislators_get_is_not_asked_for_when_none_are_written():
    campaign = complete()
    Campaign.objects.filter(pk=campaign.pk).update(thank_template="", urge_template="")
    campaign.refresh_from_db()
    assert campaign_problems(campaign) == []


def test_unsaved_asks_and_targets_stand_for_the_saved_ones():
    campaign = CampaignFactory(status=Status.DRAFT)
    executive = OfficialFactory()
    asks = [PolicyAsk(position=1, title="Protect civilians")]
    assert campaign_problems(campaign) != []
    assert campaign_problems(campaign, asks=asks, targets=[executive]) == []
    moving = campaign_move_problems(campaign, target=Status.LIVE, asks=asks, targets=[executive])
    assert moving == []


# Beat -------------------------------------------------------------------------------------------


def test_beat_takes_a_scheduled_campaign_live_at_its_start_and_closes_it_at_its_end(client):
    campaign = complete(status=Status.SCHEDULED)
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    done = campaigns_advance(now=STARTS - dt.timedelta(seconds=1))
    assert (done.went_live, done.closed, status_in_db(campaign)) == ([], [], Status.SCHEDULED)

    done = campaigns_advance(now=STARTS)
    assert done.went_live == [campaign.slug]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.starts_at) == (Status.LIVE, STARTS)

    assert campaigns_advance(now=ENDS - dt.timedelta(seconds=1)).closed == []
    done = campaigns_advance(now=ENDS)
    assert done.closed == [campaign.slug]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.ends_at) == (Status.CLOSED, ENDS)
    # Closed, its page stays up and says so.
    assert "has ended" in client.get(url).content.decode()


def test_beat_leaves_an_incomplete_campaign_scheduled_and_logs_why(caplog):
    campaign = complete(status=Status.SCHEDULED, slug="not-ready")
    campaign.asks.all().delete()
    ready = complete(status=Status.SCHEDULED)

    with caplog.at_level(logging.WARNING, logger="alerts.lifecycle"):
        done = campaigns_advance(now=STARTS)

    assert done.went_live == [ready.slug]
    assert done.held == {
        "not-ready": ["It has no policy asks: add at least one under “Policy asks”."]
    }
    assert status_in_db(campaign) == Status.SCHEDULED
    [record] = caplog.records
    assert record.getMessage() == (
        "campaign not-ready stays scheduled past its start: "
        "It has no policy asks: add at least one under “Policy asks”."
    )


def test_beat_closes_a_scheduled_campaign_whose_end_came_before_it_went_live():
    campaign = complete(status=Status.SCHEDULED)
    done = campaigns_advance(now=ENDS)
    assert (done.closed, done.went_live) == ([campaign.slug], [])
    assert status_in_db(campaign) == Status.CLOSED


def test_beat_leaves_drafts_and_campaigns_without_dates_alone():
    draft = complete(starts_at=NOW - dt.timedelta(days=2), ends_at=NOW - dt.timedelta(days=1))
    open_ended = complete(status=Status.LIVE, starts_at=None, ends_at=None)
    assert campaigns_advance(now=NOW).as_dict() == {"went_live": 0, "closed": 0, "held": 0}
    assert (status_in_db(draft), status_in_db(open_ended)) == (Status.DRAFT, Status.LIVE)


def test_the_beat_task_runs_every_minute_and_moves_campaigns():
    entry = settings.CELERY_BEAT_SCHEDULE["advance-campaigns"]
    assert entry == {"task": "alerts.advance_campaigns", "schedule": 60}
    assert tasks.advance_campaigns.name == entry["task"]
    campaign = complete(status=Status.SCHEDULED, starts_at=timezone.now())

    assert tasks.advance_campaigns.apply().get() == {"went_live": 1, "closed": 0, "held": 0}
    assert status_in_db(campaign) == Status.LIVE
