"""Claim → send → record, for one delivery. The only code that moves a delivery past `queued`."""

import logging
import smtplib
from enum import StrEnum

from django.conf import settings
from django.core.mail import BadHeaderError
from django.db.models import F
from django.utils import timezone

from legislators.models import Official

from .channels import email
from .models import Delivery

logger = logging.getLogger(__name__)

Status = Delivery.Status

CHANNEL_SENDERS = {
    Official.Channel.EMAIL: email.send,
}


class UnsupportedChannel(Exception):
    """No automatic sender exists for this channel yet."""


# Errors a channel raises for a message that did not go out. Anything else is a bug and
# propagates, leaving the delivery in `sending` for an operator (and the sweep) to see.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError, BadHeaderError, UnsupportedChannel)


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


def _transition(delivery_id, *, from_status, to_status, **fields) -> bool:
    """Move one delivery between states; False when it was not in `from_status` any more."""
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=from_status).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
    )


def _sender_for(delivery: Delivery):
    if settings.DELIVERY_SANDBOX:
        return email.send_sandboxed
    try:
        return CHANNEL_SENDERS[delivery.channel]
    except KeyError:
        raise UnsupportedChannel(f"no automatic sender for channel {delivery.channel!r}") from None


def delivery_send(*, delivery_id) -> Outcome:
    claimed = _transition(
        delivery_id,
        from_status=Status.QUEUED,
        to_status=Status.SENDING,
        attempts=F("attempts") + 1,
        sending_started_at=timezone.now(),
    )
    if not claimed:
        logger.info("delivery %s not queued any more; nothing to do", delivery_id)
        return Outcome.SKIPPED

    delivery = Delivery.objects.select_related("action", "official").get(pk=delivery_id)
    # Deliberately outside any transaction: a rollback after a send would mean sending again.
    try:
        _sender_for(delivery)(delivery)
    except DELIVERY_ERRORS as exc:
        logger.warning("delivery %s failed: %s", delivery_id, type(exc).__name__)
        _transition(
            delivery_id,
            from_status=Status.SENDING,
            to_status=Status.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return Outcome.FAILED

    _transition(
        delivery_id,
        from_status=Status.SENDING,
        to_status=Status.SENT,
        sent_at=timezone.now(),
        last_error="",
    )
    logger.info("delivery %s sent", delivery_id)
    return Outcome.SENT
