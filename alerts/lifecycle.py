"""A campaign's status: draft → scheduled → live → closed (`CAMPAIGN_TRANSITIONS`), moved by
hand (the admin, through `services`) and by beat at the start and end times
(`campaigns_advance`). It sits beside `privacy` so that the beat's task can call it; the
services re-export it for the admin.

Every move is one function, `campaign_status_set`: it refuses a move the table does not allow
and an incomplete campaign going scheduled or live (`selectors.campaign_move_problems`), and
gives the campaign a new `updated_at`, so its cached page (`web/pages.py`) is not used again.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import Campaign
from .selectors import campaign_move_problems

logger = logging.getLogger(__name__)

Status = Campaign.Status


class CampaignMoveRefused(Exception):
    """The move is not allowed, or the campaign is not ready for it; `reasons` say why, in
    words for the organizer."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def campaign_status_set(*, campaign: Campaign, status: str, now=None) -> Campaign:
    """Move `campaign` to `status` now, or raise CampaignMoveRefused.

    Going live starts it now (a start time still ahead is brought forward, an empty one set),
    so that it is on its page at once; closing ends it now (an end time still ahead, or none,
    becomes now), so that its page says when it ended. Returns the campaign as saved."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if status == current.status:
            return current
        reasons = campaign_move_problems(current, target=status, now=now)
        if reasons:
            raise CampaignMoveRefused(reasons)
        changes = {"status": status}
        if status == Status.LIVE and (current.starts_at is None or current.starts_at > now):
            changes["starts_at"] = now
        if (
            status == Status.CLOSED
            and (current.ends_at is None or current.ends_at > now)
            and (current.starts_at is None or current.starts_at < now)
        ):
            changes["ends_at"] = now
        for name, value in changes.items():
            setattr(current, name, value)
        # Saved (not updated) under the row's lock, so the move is in the campaign's history;
        # `updated_at` moves with it.
        current.save(update_fields=[*changes, "updated_at"])
    for name in [*changes, "updated_at"]:
        setattr(campaign, name, getattr(current, name))
    return campaign


@dataclass
class Advanced:
    """What one run of `campaigns_advance` did, by slug."""

    went_live: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    # Scheduled campaigns whose start time came but which are not ready: why, per campaign.
    held: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "went_live": len(self.went_live),
            "closed": len(self.closed),
            "held": len(self.held),
        }


def campaigns_advance(*, now=None) -> Advanced:
    """Beat, every minute: live (and scheduled) campaigns whose end time has come are closed;
    scheduled ones whose start time has come go live, unless incomplete, which stay scheduled
    and are logged with what is missing (the organizer sees the same on the campaign's page)."""
    now = now or timezone.now()
    done = Advanced()
    ending = Campaign.objects.filter(status__in=[Status.LIVE, Status.SCHEDULED], ends_at__lte=now)
    for campaign in ending.order_by("pk"):
        campaign_status_set(campaign=campaign, status=Status.CLOSED, now=now)
        done.closed.append(campaign.slug)
    starting = Campaign.objects.filter(status=Status.SCHEDULED, starts_at__lte=now)
    for campaign in starting.order_by("starts_at", "pk"):
        try:
            campaign_status_set(campaign=campaign, status=Status.LIVE, now=now)
        except CampaignMoveRefused as refused:
            done.held[campaign.slug] = refused.reasons
            logger.warning("campaign %s stays scheduled past its start: %s", campaign.slug, refused)
        else:
            done.went_live.append(campaign.slug)
    return done
