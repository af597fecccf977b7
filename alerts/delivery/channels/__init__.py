"""Delivery channels: each turns a Delivery into a message on its own transport.

A channel's `send(delivery)` returns when the receiver accepted the message (with the
attempt's Evidence, or None), or raises TransientError (worth retrying: a timeout, a 4xx SMTP
reply, HTTP 429/5xx), PermanentError (not worth retrying: a 5xx SMTP reply, HTTP 4xx, a refused
destination) or NeedsConstituent (no automatic way left: the constituent sends it).
"""

from django.conf import settings

from legislators.models import Official

from . import cwc, email, webhook
from .errors import DeliveryError, Evidence, NeedsConstituent, PermanentError, TransientError

__all__ = [
    "Channel",
    "DeliveryError",
    "Evidence",
    "NeedsConstituent",
    "PermanentError",
    "TransientError",
    "route",
    "sender_for",
]

Channel = Official.Channel


def route(official: Official) -> str:
    """The channel a delivery to this official uses: its own, when that channel can work here,
    else the next in the fallback order (email, then the contact form)."""
    usable = {
        Channel.EMAIL: bool(official.email),
        Channel.CWC: bool(official.cwc_office and settings.CWC_API_KEY),
        Channel.WEBHOOK: bool(official.webhook_url and settings.WEBHOOK_SECRET),
        Channel.CONTACT_FORM: bool(official.contact_form_url),
    }
    for channel in (official.channel, Channel.EMAIL, Channel.CONTACT_FORM):
        if usable[channel]:
            return channel
    return official.channel


def sender_for(channel: str):
    """The function that sends on `channel`. Contact-form deliveries are never sent by us."""
    senders = {Channel.EMAIL: email.send, Channel.CWC: cwc.send, Channel.WEBHOOK: webhook.send}
    try:
        return senders[channel]
    except KeyError:
        raise PermanentError(f"no automatic sender for channel {channel!r}") from None
