"""Email to the constituent: the confirmation link, one reminder, and what happens next (once
an action's last attempt has ended: what could not be delivered, and what was after all)."""

import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import math
import smtplib

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Action, Delivery
from .selectors import action_outcomes, addressed_as, call_sheets

logger = logging.getLogger(__name__)

CONFIRM_SALT = "alerts.action-confirm"
CONFIRM_MAX_AGE = dt.timedelta(days=7)
REMINDER_AFTER = dt.timedelta(hours=24)

# Crockford's base32: no I, L, O or U, so a code read aloud or retyped is not misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 40 bits; the confirm view allows a few tries an hour per action
_CODE_MISREADINGS = str.maketrans({"O": "0", "I": "1", "L": "1"})

# Providers that deliver `j.doe@` and `jdoe@` to one mailbox, and the domain they share.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


class ConfirmationLinkError(Exception):
    """The link is not one of ours, or it has expired."""

    def __init__(self, *, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class MailNotAccepted(smtplib.SMTPException):
    """The mail server did not take an email for now (a 4xx, a dropped connection): worth
    another try. Only its reply code is kept, as smtplib's own errors carry the recipient's
    address into whatever logs them (Celery's retry line, a traceback)."""


def confirmation_code(action: Action, *, secret=None) -> str:
    """The secret that confirms `action`, derived from its public id: nothing to store."""
    digest = salted_hmac(
        CONFIRM_SALT, str(action.public_id), secret=secret, algorithm="sha256"
    ).digest()
    number = int.from_bytes(digest[:5], "big")
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def confirmation_code_shown(action: Action) -> str:
    """The code as the email shows it: two groups of four."""
    code = confirmation_code(action)
    return f"{code[:4]}-{code[4:]}"


def confirmation_code_matches(action: Action, entered: str) -> bool:
    """Whether `entered` is the action's code, however it was typed (case, spaces, dashes,
    O for 0); codes made with a retired SECRET_KEY still count."""
    entered = "".join(ch for ch in entered.upper() if ch.isalnum()).translate(_CODE_MISREADINGS)
    if len(entered) != CODE_LENGTH:
        return False
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(entered, confirmation_code(action, secret=s)) for s in secrets)


def action_to_confirm(public_id) -> Action:
    """The action a confirmation page is for; its link works for CONFIRM_MAX_AGE from the
    submission (an action confirmed already is shown as such, however old)."""
    action = Action.objects.select_related("campaign").filter(public_id=public_id).first()
    if action is None:
        raise ConfirmationLinkError(expired=False)
    if action.confirmed_at is None and action.created_at < timezone.now() - CONFIRM_MAX_AGE:
        raise ConfirmationLinkError(expired=True)
    return action


def confirmation_url(action: Action) -> str:
    """The emailed link. Its path names the action and carries no secret; the code rides in
    the fragment, which browsers never send to a server, so it reaches no access log, proxy
    log or Referer header. The page's script moves it into the form that is POSTed; without
    JavaScript the constituent types the code the email also shows."""
    path = reverse("alerts:confirm", args=[action.public_id])
    return f"{settings.SITE_URL.rstrip('/')}{path}#code={confirmation_code_shown(action)}"


def mailbox_key(email: str) -> str:
    """One mailbox however its address is written: case folded, a `+tag` dropped, and the
    dots of a local part dropped where the provider ignores them (gmail.com, googlemail.com).
    Dropping a `+tag` at a provider that does not use them can only join two addresses under
    one limit, never split one."""
    local, _, domain = email.strip().rpartition("@")
    domain = domain.strip().rstrip(".").casefold()
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    local = local.casefold().partition("+")[0]
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def salted_digest(value: str) -> str:
    """What a key or a row holds instead of an address (IP or email): an HMAC keyed by
    IP_HASH_SALT (or SECRET_KEY), stable for one salt, useless without it."""
    salt = settings.IP_HASH_SALT or settings.SECRET_KEY
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def mailbox_digest(email: str) -> str:
    """What the per-email rate limit and the confirmation cap key a mailbox by."""
    return salted_digest(mailbox_key(email))


def _days_key(email: str, now: dt.datetime) -> tuple[str, int]:
    """The cache key of the count of confirmation emails to this mailbox on `now`'s UTC day,
    and the seconds left in that day."""
    seconds = int(now.timestamp())
    return f"confirmations:{seconds // 86400}:{mailbox_digest(email)}", 86400 - seconds % 86400


def _mailbox_allowance_take(email: str, now: dt.datetime) -> bool:
    """Count one confirmation email to this mailbox today; False once that is more than
    CONFIRMATIONS_PER_RECIPIENT_PER_DAY. A cache that is down limits nobody (as the
    submission limits): losing a constituent's confirmation is worse."""
    key, left = _days_key(email, now)
    try:
        cache.add(key, 0, timeout=left + 60)
        count = cache.incr(key)
    except Exception:  # any cache failure: allow, and say so without the address
        logger.warning("confirmation cap unavailable; sending without it", exc_info=True)
        return True
    return count <= settings.CONFIRMATIONS_PER_RECIPIENT_PER_DAY


def _mailbox_allowance_return(email: str, now: dt.datetime) -> None:
    """The email counted did not go out: it does not use up the day's allowance."""
    with contextlib.suppress(Exception):
        cache.decr(_days_key(email, now)[0])


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """The recipient's server refused this address or this message with a 5xx: another try
    gets the same answer (and would make us a nuisance to that server)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _reply_code(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return ",".join(sorted({str(code) for code, _ in exc.recipients.values()}))
    return str(getattr(exc, "smtp_code", "") or type(exc).__name__)


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


def _mail(*, about: str, to: str, templates: str, context: dict) -> bool:
    """`_email_constituent`, False when the recipient's server refused it for good (logged as
    `about`, an id, never the address); anything worth another try is raised again as
    `MailNotAccepted`, without the address smtplib's errors carry."""
    try:
        _email_constituent(to=to, templates=templates, context=context)
    except (smtplib.SMTPException, OSError) as exc:
        if isinstance(exc, smtplib.SMTPException) and _refused_for_good(exc):
            logger.warning(
                "%s refused by the mail server (SMTP %s); not tried again", about, _reply_code(exc)
            )
            return False
        raise MailNotAccepted(f"SMTP {_reply_code(exc)}") from None
    return True


def _send_confirmation_email(action: Action, *, reminder: bool, now=None) -> bool:
    """The confirmation email (or its reminder), unless its mailbox has had
    CONFIRMATIONS_PER_RECIPIENT_PER_DAY of them today. False when held back or refused for
    good: the caller's stamp stays, so neither is tried again, and a confirmation held back
    goes out as the next day's reminder, if that day's allowance has room."""
    now = now or timezone.now()
    about = f"{'reminder' if reminder else 'confirmation'} for action {action.pk}"
    if not _mailbox_allowance_take(action.email, now):
        logger.info("%s held back: its mailbox had today's confirmation emails", about)
        return False
    context = {
        "campaign": action.campaign,
        "url": confirmation_url(action),
        "code": confirmation_code_shown(action),
        # Per official, what will happen and how to call: the thanks page's wording.
        **_outcomes_by_mode(action),
        "reminder": reminder,
        # The link works for CONFIRM_MAX_AGE from the submission: a reminder has a day less.
        "expires_days": _days_left(action.created_at + CONFIRM_MAX_AGE, now),
    }
    try:
        sent = _mail(about=about, to=action.email, templates="confirm", context=context)
    except BaseException:
        _mailbox_allowance_return(action.email, now)
        raise
    if not sent:
        _mailbox_allowance_return(action.email, now)
    return sent


def _days_left(until: dt.datetime, now: dt.datetime) -> int:
    return max(math.ceil((until - now).total_seconds() / 86400), 1)


def _outcomes_by_mode(action: Action) -> dict:
    """The officials as the thanks page shows them, but with nothing the submitter typed:
    the address is not confirmed yet, so whoever typed it may not be its owner, and the email
    must carry none of their words to it. The call scripts leave the constituent's name and
    city as placeholders; the message itself is not shown (the thanks page has it)."""
    outcomes = action_outcomes(action)
    sheets = call_sheets(
        campaign=action.campaign,
        targets=[(o.delivery.official, o.delivery.variant) for o in outcomes],
        zip_code=action.zip_code,
    )
    outcomes = [dataclasses.replace(o, calls=sheets.get(o.delivery.official_id)) for o in outcomes]
    yourself = {"yourself", "call"}
    return {
        "automatic": [o for o in outcomes if o.report.state not in yourself],
        "manual": [o for o in outcomes if o.report.state in yourself],
    }


def confirmation_send(*, action_id: int) -> bool:
    """Send the confirmation email once. False when it was already sent or not needed, held
    back by its mailbox's daily cap, or refused for good; none of these is tried again."""
    with _once(Action, action_id, "confirmation_sent_at", confirmed_at__isnull=True) as claimed:
        if claimed:
            action = Action.objects.select_related("campaign").get(pk=action_id)
            return _send_confirmation_email(action, reminder=False)
    return False


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
                    sent += _send_confirmation_email(action, reminder=True, now=now)
        except (smtplib.SMTPException, OSError) as exc:  # one bad address must not stop the rest
            logger.warning("reminder for action %s failed: %s", action_id, exc)
            continue
    return sent


@dataclasses.dataclass(frozen=True)
class _Notice:
    """One kind of news about an action's deliveries: which they are, the field each is
    stamped in once told, and the email's templates."""

    about: str
    owed: str  # the DeliveryQuerySet method that finds them
    stamp: str
    templates: str


_FAILED = _Notice("failure notice", "unnotified_failures", "constituent_notified_at", "failed")
_DELIVERED = _Notice(
    "delivered notice", "delivered_unnotified", "delivered_notified_at", "delivered"
)


def constituent_notices_send(*, action_id) -> int:
    """What the constituent of an action is to hear once its last attempt has ended: one email
    listing every office their message could not reach, each with the way to send it
    themselves; and one listing the offices it reached after all (an operator's retry) since
    they were told it had not. Nothing while a delivery of the action is still in flight: its
    ending calls this again. Each delivery is told once, however many workers run this at the
    same moment. Returns how many emails went out."""
    return sum(_notice_send(action_id, notice) for notice in (_FAILED, _DELIVERED))


def _notice_send(action_id, notice: _Notice) -> bool:
    now = timezone.now()
    claimed = _deliveries_claim(action_id, notice, now)
    if not claimed:
        return False
    try:
        action = Action.objects.select_related("campaign").filter(pk=action_id).first()
        if action is None or not action.email:  # deleted or erased meanwhile: nobody to tell
            return False
        deliveries = list(
            Delivery.objects.filter(pk__in=claimed)
            .select_related("official__legislator")
            .order_by("official__kind", "created_at")
        )
        return _mail(
            about=f"{notice.about} for action {action_id}",
            to=action.email,
            templates=notice.templates,
            context=_notice_context(action, deliveries),
        )
    except BaseException:
        # Not sent: the next try (the task's retry, else the sweep) tells them.
        Delivery.objects.filter(pk__in=claimed, **{notice.stamp: now}).update(
            **{notice.stamp: None}
        )
        raise


def _deliveries_claim(action_id, notice: _Notice, now) -> list:
    """Stamp the action's deliveries owed `notice`, in one transaction that holds the action's
    row: a second caller waits for it, then finds them stamped. None while any delivery of the
    action is in flight."""
    with transaction.atomic():
        if not list(Action.objects.select_for_update().filter(pk=action_id).values_list("pk")):
            return []
        deliveries = Delivery.objects.filter(action_id=action_id)
        if deliveries.in_flight().exists():
            return []
        owed = getattr(deliveries, notice.owed)()
        claimed = list(owed.select_for_update().order_by().values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=claimed).update(**{notice.stamp: now})
    return claimed


def _notice_context(action: Action, deliveries: list[Delivery]) -> dict:
    """Per office: whom it was addressed to, and for one not delivered the ways the constituent
    can still reach it (its contact form, its phone numbers and what to say) with the message
    to copy. The address has been used to write in the constituent's name already, and the
    message it carries is theirs."""
    sheets = call_sheets(
        campaign=action.campaign,
        targets=[(d.official, d.variant) for d in deliveries],
        zip_code=action.zip_code,
        sender={name: getattr(action, name) for name in Action.CONTACT_FIELDS},
    )
    offices = [
        {
            "name": addressed_as(d),
            "delivery": d,
            "official": d.official,
            "manual": d.status == Delivery.Status.MANUAL,
            "calls": sheets.get(d.official_id),
        }
        for d in deliveries
    ]
    return {"action": action, "campaign": action.campaign, "offices": offices}
