"""The staff sign-in log (logger `staff`): every sign-in, refusal, lockout, sign-out and expired
session, one line each.

A line never holds a password, a code or the name typed (people type their password there by
mistake): an account is its id, or `unknown` when the name is nobody's, and an address is a
prefix of its salted hash (`alerts.web.abuse.ip_hash`), enough to tell one client from another.
"""

import logging
import time

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from alerts.web.abuse import ip_hash

from .access import attempted_username, client_address
from .middleware import LAST_SEEN_KEY, SIGNED_IN_AT_KEY

logger = logging.getLogger("staff")


def address_ref(request: HttpRequest | None) -> str:
    if request is None:
        return "-"
    return ip_hash(client_address(request) or "")[:16]


def account_ref(username: str | None) -> str:
    if not username:
        return "unknown"
    User = get_user_model()
    found = (
        User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username})
        .values_list("pk", flat=True)
        .first()
    )
    return str(found) if found is not None else "unknown"


@receiver(user_logged_in, dispatch_uid="staff.signed_in")
def signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT_KEY] = now
        request.session[LAST_SEEN_KEY] = now
    device = getattr(user, "otp_device", None)
    logger.info(
        "staff sign-in: account %s from %s, second factor %s",
        user.pk,
        address_ref(request),
        type(device).__name__ if device is not None else "none",
    )


@receiver(user_login_failed, dispatch_uid="staff.refused")
def refused(sender, credentials, request=None, reason="password", **kwargs):
    if getattr(request, "axes_locked_out", False):
        reason = f"{reason} (locked out)"
    logger.warning(
        "staff sign-in refused: account %s from %s, %s, failures %s",
        account_ref(attempted_username(request, credentials)),
        address_ref(request),
        reason,
        getattr(request, "axes_failures_since_start", None) or "-",
    )


@receiver(user_locked_out, dispatch_uid="staff.locked_out")
def locked_out(sender, request, username, ip_address, **kwargs):
    logger.warning(
        "staff lockout: account %s from %s",
        account_ref(username),
        address_ref(request),
    )


@receiver(user_logged_out, dispatch_uid="staff.signed_out")
def signed_out(sender, request, user, **kwargs):
    logger.info(
        "staff sign-out: account %s from %s",
        user.pk if user is not None else "unknown",
        address_ref(request),
    )
