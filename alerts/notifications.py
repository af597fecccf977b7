"""Email to the constituent: the confirmation link, one reminder, and what happens next."""

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Action, Delivery

logger = logging.getLogger(__name__)

CONFIRM_SALT = "alerts.action-confirm"
CONFIRM_MAX_AGE = dt.timedelta(days=7)
REMINDER_AFTER = dt.timedelta(hours=24)


class ConfirmationLinkError(Exception):
    """The link is not one of ours, or it has expired."""

    def __init__(self, *, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def confirmation_token(action: Action) -> str:
    return signing.dumps(str(action.public_id), salt=CONFIRM_SALT)


def action_for_confirmation(token: str) -> Action:
    try:
        public_id = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ConfirmationLinkError(expired=True) from None
    except signing.BadSignature:
        raise ConfirmationLinkError(expired=False) from None
    action = Action.objects.select_related("campaign").filter(public_id=public_id).first()
    if action is None:
        raise ConfirmationLinkError(expired=False)
    return action


def confirmation_url(action: Action) -> str:
    path = reverse("alerts:confirm", args=[confirmation_token(action)])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _send_confirmation_email(action: Action, *, reminder: bool) -> None:
    deliveries = list(action.deliveries.select_related("official"))
    context = {
        "action": action,
        "campaign": action.campaign,
        "url": confirmation_url(action),
        "officials": [d.official for d in deliveries if d.status != Delivery.Status.MANUAL],
        "manual": [d for d in deliveries if d.status == Delivery.Status.MANUAL],
        "reminder": reminder,
        "expires_days": CONFIRM_MAX_AGE.days,
    }
    subject = render_to_string("alerts/email/confirm_subject.txt", context).strip()
    body = render_to_string("alerts/email/confirm_body.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[action.email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()


def confirmation_send(*, action_id: int) -> bool:
    """Send the confirmation email once. False when it was already sent or not needed."""
    claimed = Action.objects.filter(
        pk=action_id, confirmation_sent_at__isnull=True, confirmed_at__isnull=True
    ).update(confirmation_sent_at=timezone.now())
    if not claimed:
        return False
    action = Action.objects.select_related("campaign").get(pk=action_id)
    try:
        _send_confirmation_email(action, reminder=False)
    except Exception:
        # Release the claim so a retry (or the sweep) can send it.
        Action.objects.filter(pk=action_id).update(confirmation_sent_at=None)
        raise
    return True


def reminders_send(*, now=None) -> int:
    """One reminder, a day after the confirmation email, while the link is still valid."""
    now = now or timezone.now()
    due = Action.objects.filter(
        confirmed_at__isnull=True,
        reminder_sent_at__isnull=True,
        confirmation_sent_at__lte=now - REMINDER_AFTER,
        created_at__gt=now - CONFIRM_MAX_AGE,
    ).values_list("pk", flat=True)
    sent = 0
    for action_id in list(due[:500]):
        if not Action.objects.filter(pk=action_id, reminder_sent_at__isnull=True).update(
            reminder_sent_at=now
        ):
            continue
        action = Action.objects.select_related("campaign").get(pk=action_id)
        try:
            _send_confirmation_email(action, reminder=True)
        except (smtplib.SMTPException, OSError) as exc:  # one bad address must not stop the rest
            logger.warning("reminder for action %s failed: %s", action_id, type(exc).__name__)
            Action.objects.filter(pk=action_id).update(reminder_sent_at=None)
            continue
        sent += 1
    return sent


def failure_notice_send(*, delivery_id) -> bool:
    """Tell the constituent a message could not be delivered, with the official's own contact
    form and a copy of the text to send there. Once per delivery."""
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.FAILED, constituent_notified_at__isnull=True
    ).update(constituent_notified_at=timezone.now())
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("action__campaign", "official").get(pk=delivery_id)
    context = {"delivery": delivery, "action": delivery.action, "official": delivery.official}
    subject = render_to_string("alerts/email/failed_subject.txt", context).strip()
    try:
        EmailMessage(
            subject=" ".join(subject.split()),
            body=render_to_string("alerts/email/failed_body.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.action.email],
            headers={"Auto-Submitted": "auto-generated"},
        ).send()
    except Exception:
        Delivery.objects.filter(pk=delivery_id).update(constituent_notified_at=None)
        raise
    return True
