"""The operator's pre-launch check: many sandbox actions through the constituent's path."""

import secrets
from dataclasses import dataclass

from django.conf import settings

from legislators.lookup import AddressError

from ..models import Campaign, Delivery
from ..services import action_submit
from ..web.forms import consent_text
from ..web.targeting import recipients_for


class BlastError(Exception):
    pass


@dataclass(frozen=True)
class BlastSummary:
    campaign: str
    actions: int
    deliveries: int


def test_blast_send(*, count: int, campaign_slug: str | None = None, zip_code: str = "22201"):
    if not settings.DELIVERY_SANDBOX:
        raise BlastError("DELIVERY_SANDBOX is off: a test blast would write to real offices.")
    if not 1 <= count <= 100_000:
        raise BlastError("--count must be between 1 and 100000.")
    live = Campaign.objects.live()
    campaign = live.filter(slug=campaign_slug).first() if campaign_slug else live.first()
    if campaign is None:
        raise BlastError(f"No live campaign {campaign_slug or ''}".strip() + ".")
    try:
        recipients = recipients_for(campaign=campaign, zip_code=zip_code)
        officials = recipients.checkable + recipients.representative_choices[:1]
    except AddressError:
        officials = list(campaign.targets.filter(is_active=True))
    if not officials:
        raise BlastError(f"Campaign '{campaign.slug}' has no officials to write.")

    run = secrets.token_hex(4)
    for number in range(1, count + 1):
        action_submit(
            campaign=campaign,
            constituent={
                "first_name": "Test",
                "last_name": f"Constituent {number}",
                "email": f"blast-{run}-{number}@example.invalid",
                "street": "1 Test Street",
                "city": "Testville",
                "state": officials[0].legislator.state if officials[0].legislator else "DC",
                "zip_code": zip_code,
            },
            subject=campaign.message_subject,
            message=f"Test blast {run}, message {number}.",
            officials=officials,
            consent_text=consent_text(campaign),
            source=f"test-blast-{run}",
            pre_confirmed=True,
        )
    queued = Delivery.objects.filter(action__source=f"test-blast-{run}").exclude(
        status=Delivery.Status.MANUAL
    )
    return BlastSummary(campaign=campaign.slug, actions=count, deliveries=queued.count())
