"""Delivery channels: each turns a Delivery into a message on its own transport.

A channel's `send(delivery)` returns when the receiver accepted the message (with the
attempt's Evidence, or None), or raises TransientError (worth retrying: a timeout, a 4xx SMTP
reply, HTTP 429/5xx), PermanentError (not worth retrying: a 5xx SMTP reply, HTTP 4xx, a refused
destination) or NeedsConstituent (no automatic way left: the constituent sends it).
"""

from legislators.models import Official

from . import cwc, email, web_form, webhook
from .errors import DeliveryError, Evidence, NeedsConstituent, PermanentError, TransientError

__all__ = [
    "Channel",
    "DeliveryError",
    "Evidence",
    "NeedsConstituent",
    "PermanentError",
    "TransientError",
    "sender_for",
]

Channel = Official.Channel


def sender_for(channel: str):
    """The function that sends on `channel`. Contact-form deliveries are never sent by us."""
    senders = {
        Channel.EMAIL: email.send,
        Channel.CWC: cwc.send,
        Channel.WEBHOOK: webhook.send,
        Channel.WEB_FORM: web_form.send,
    }
    try:
        return senders[channel]
    except KeyError:
        raise PermanentError(f"no automatic sender for channel {channel!r}") from None
