"""Email to the constituent: the confirmation link, one reminder, and what happens next."""

import contextlib
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
from .selectors import action_outcomes

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


def _email_constituent(*, to: str, templates: str, context: dict) -> None:
    """alerts/email/<templates>_subject.txt and _body.txt, to the constituent, marked as
    automatic so that their mail server sends no vacation reply back."""
    subject = render_to_string(f"alerts/email/{templates}_subject.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"alerts/email/{templates}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()


@contextlib.contextmanager
def _once(model, pk, field: str, *, at=None, **conditions):
    """Stamp `field` on one row, if it is unset and `conditions` hold, and yield whether this
    caller won it; if what follows raises, the stamp is taken back for a later try."""
    unstamped = model.objects.filter(pk=pk, **{f"{field}__isnull": True}, **conditions)
    claimed = bool(unstamped.update(**{field: at or timezone.now()}))
    try:
        yield claimed
    except BaseException:
        if claimed:
            model.objects.filter(pk=pk).update(**{field: None})
        raise


def _send_confirmation_email(action: Action, *, reminder: bool) -> None:
    context = {
        "action": action,
        "campaign": action.campaign,
        "url": confirmation_url(action),
        # Per official, what will happen and how to call: the thanks page's wording.
        **_outcomes_by_mode(action),
        "reminder": reminder,
        "expires_days": CONFIRM_MAX_AGE.days,
    }
    _email_constituent(to=action.email, templates="confirm", context=context)


def _outcomes_by_mode(action: Action) -> dict:
    outcomes = action_outcomes(action)
    yourself = {"yourself", "call"}
    return {
        "automatic": [o for o in outcomes if o.report.state not in yourself],
        "manual": [o for o in outcomes if o.report.state in yourself],
    }


def confirmation_send(*, action_id: int) -> bool:
    """Send the confirmation email once. False when it was already sent or not needed."""
    with _once(Action, action_id, "confirmation_sent_at", confirmed_at__isnull=True) as claimed:
        if claimed:
            action = Action.objects.select_related("campaign").get(pk=action_id)
            _send_confirmation_email(action, reminder=False)
    return claimed


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
        try:
            with _once(Action, action_id, "reminder_sent_at", at=now) as claimed:
                if claimed:
                    action = Action.objects.select_related("campaign").get(pk=action_id)
                    _send_confirmation_email(action, reminder=True)
        except (smtplib.SMTPException, OSError) as exc:  # one bad address must not stop the rest
            logger.warning("reminder for action %s failed: %s", action_id, type(exc).__name__)
            continue
        sent += claimed
    return sent


def failure_notice_send(*, delivery_id) -> bool:
    """Tell the constituent a message could not be delivered, with the official's own contact
    form and a copy of the text to send there. Once per delivery."""
    undelivered = {"status__in": [Delivery.Status.FAILED, Delivery.Status.MANUAL]}
    with _once(Delivery, delivery_id, "constituent_notified_at", **undelivered) as claimed:
        if claimed:
            delivery = Delivery.objects.select_related("action__campaign", "official").get(
                pk=delivery_id
            )
            context = {
                "delivery": delivery,
                "action": delivery.action,
                "official": delivery.official,
            }
            _email_constituent(to=delivery.action.email, templates="failed", context=context)
    return claimed
