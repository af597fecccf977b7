"""Writes: every change to actions and deliveries goes through a function here."""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from legislators.models import Official

from .messages import message_compose
from .models import Action, Campaign, Delivery

logger = logging.getLogger(__name__)

CONSTITUENT_FIELDS = ("first_name", "last_name", "email", "street", "city", "state", "zip_code")


def action_submit(
    *,
    campaign: Campaign,
    constituent: dict,
    subject: str,
    message: str,
    officials: Sequence[Official],
) -> Action:
    """Store the action and one delivery per official, then queue them once that is committed.

    Nothing reaches the broker unless the rows exist, so a crash or a broker outage can delay a
    message but never lose the submission.
    """
    now = timezone.now()
    sender = {field: constituent[field] for field in CONSTITUENT_FIELDS}
    with transaction.atomic():
        action = Action(campaign=campaign, subject=subject, message=message, **sender)
        action.full_clean()
        action.save()
        deliveries = []
        for official in officials:
            composed = message_compose(
                official=official, subject=subject, message=message, sender=sender
            )
            deliveries.append(
                Delivery(
                    action=action,
                    official=official,
                    channel=official.channel,
                    status=Delivery.Status.QUEUED,
                    queued_at=now,
                    subject=composed.subject,
                    body=composed.body,
                )
            )
        Delivery.objects.bulk_create(deliveries)
        delivery_ids = [str(d.id) for d in deliveries]
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return action


def deliveries_enqueue(*, delivery_ids: Sequence[str]) -> int:
    """Hand delivery ids (and nothing else) to the broker. Returns how many were handed over."""
    from kombu.exceptions import OperationalError

    from .tasks import deliver

    handed = 0
    for delivery_id in delivery_ids:
        try:
            deliver.delay(delivery_id)
        except OperationalError:
            # The rows are committed as `queued`; the periodic sweep hands them over later.
            logger.warning("broker unavailable; delivery %s left for the sweep", delivery_id)
            break
        handed += 1
    return handed
