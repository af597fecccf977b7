"""Constituents' personal data: kept PERSONAL_DATA_RETENTION_DAYS, then anonymised; removed
with its action when a confirmation link expires unused; exported or erased on request.

Anonymising keeps what reports count: each action's campaign, state, source and referral and
its times, and each delivery's official, channel, variant, status, attempts and times (so
`selectors.actions_counted` and `selectors.delivery_stats` read the same). It blanks who the
person is and what they wrote: names, email, street, city, ZIP, phone, subject and message,
the composed messages (which carry the name and address), the salted hash of their IP
address, errors and web-form evidence, and it deletes the screenshots under
WEB_FORM_EVIDENCE_DIR/<delivery id>/ and the Redis keys derived from their email or address.

A delivery not yet finished (pending, queued, sending) is deleted, not anonymised: it would
otherwise go out with no sender. An action that does not count (unconfirmed, on a campaign
with double opt-in) is deleted with its deliveries and taken off the maintained count.

This module sits beside `notifications` in the layers (ARCHITECTURE.md), so that
`tasks.purge_personal_data` can call it; commands call it too.
"""

import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Action, ActionCount, Attempt, Delivery, DeliveryStatus, Erasure
from .notifications import CONFIRM_MAX_AGE, mailbox_digest

logger = logging.getLogger(__name__)

FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.MANUAL)
MIN_RETENTION_DAYS = CONFIRM_MAX_AGE.days + 1
BATCH = 500
# Redis keys to forget are gathered over this many actions, then looked for in one SCAN.
FORGET_EVERY = 20_000

_ANONYMOUS_ACTION = {
    "prefix": "",
    "first_name": "",
    "last_name": "",
    "email": "",
    "street": "",
    "city": "",
    "zip_code": "",
    "phone": "",
    "subject": "",
    "message": "",
    "ip_hash": "",
    "form_token": None,
}
_ANONYMOUS_DELIVERY = {
    "subject": "",
    "organization_statement": "",
    "constituent_message": "",
    "body": "",
    "last_error": "",
}
_ANONYMOUS_ATTEMPT = {"error": "", "final_url": "", "screenshot": ""}


@dataclass(frozen=True)
class Forgotten:
    """What one pass did: actions deleted and anonymised, deliveries deleted and anonymised,
    screenshot folders and Redis keys removed."""

    actions_removed: int = 0
    actions_anonymised: int = 0
    deliveries_removed: int = 0
    deliveries_anonymised: int = 0
    evidence_removed: int = 0
    cache_keys_removed: int = 0

    def __add__(self, other: "Forgotten") -> "Forgotten":
        return Forgotten(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.actions_removed,
            self.actions_anonymised,
            self.deliveries_removed,
            self.deliveries_anonymised,
            self.evidence_removed,
            self.cache_keys_removed,
        )

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.__dataclass_fields__, self.astuple(), strict=True))


# --- which actions ------------------------------------------------------------------------


def _not_counted() -> Q:
    """Unconfirmed on a campaign that asks for confirmation: not in its public count."""
    return Q(confirmed_at__isnull=True, campaign__double_opt_in=True)


def _unconfirmed_expired(*, now):
    """Unconfirmed actions that will never count: their link, which works for
    CONFIRM_MAX_AGE from the submission (`notifications.action_to_confirm`), has expired."""
    return Action.objects.filter(_not_counted(), created_at__lt=now - CONFIRM_MAX_AGE)


def _retention_cutoff(now) -> dt.datetime:
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    if days < MIN_RETENTION_DAYS:
        # Shorter, and an action could be anonymised while its link may still confirm it or
        # its deliveries still wait for a retry (which would be deleted unsent).
        raise ImproperlyConfigured(
            f"PERSONAL_DATA_RETENTION_DAYS is {days}; it must be at least {MIN_RETENTION_DAYS}"
        )
    return now - dt.timedelta(days=days)


def _actions_of(email: str):
    email = email.strip()
    if not email:
        raise ValueError("an email address is needed")  # "" would match every anonymised row
    return Action.objects.filter(email__iexact=email)


# --- the three entry points ---------------------------------------------------------------


def personal_data_purge(*, now=None, dry_run: bool = False) -> Forgotten:
    """The daily purge (beat, `manage.py purge_personal_data`): actions whose confirmation
    link expired unused are deleted; actions older than PERSONAL_DATA_RETENTION_DAYS (always
    longer than a link works) are anonymised. `dry_run` counts the actions and writes
    nothing."""
    now = now or timezone.now()
    cutoff = _retention_cutoff(now)
    to_remove = _unconfirmed_expired(now=now)
    to_anonymise = (
        Action.objects.filter(created_at__lt=cutoff).exclude(email="").exclude(_not_counted())
    )
    if dry_run:
        return Forgotten(actions_removed=to_remove.count(), actions_anonymised=to_anonymise.count())
    done = Forgotten()
    tokens: set[str] = set()
    for queryset in (to_remove, to_anonymise):
        while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH]):
            forgotten, found = _forget(queryset.filter(pk__in=ids), now=now)
            done += forgotten
            tokens |= found
            if len(tokens) >= FORGET_EVERY:
                done += Forgotten(cache_keys_removed=_cache_forget(tokens))
                tokens = set()
            if not forgotten.actions_removed and not forgotten.actions_anonymised:
                break  # every row changed under us since it was read: the next run sees them
    done += Forgotten(cache_keys_removed=_cache_forget(tokens))
    logger.info("personal data purged: %s", done.as_dict())
    return done


def constituent_erase(*, email: str, now=None) -> Erasure:
    """Everything held about whoever used `email` (any case), removed: their actions that
    never counted deleted, the rest anonymised, their screenshots and Redis keys deleted,
    and the geocoder's cached answers dropped (they are keyed by addresses). Records that an
    erasure happened and how much it touched, never whose."""
    now = now or timezone.now()
    mine = _actions_of(email)
    ids = list(mine.values_list("pk", flat=True))
    done = Forgotten()
    tokens = {mailbox_digest(email)}
    for start in range(0, len(ids), BATCH):
        forgotten, found = _forget(mine.filter(pk__in=ids[start : start + BATCH]), now=now)
        done += forgotten
        tokens |= found
    keys = _cache_forget(tokens, patterns=["*geocode:*"])
    erasure = Erasure.objects.create(
        created_at=now,
        actions_erased=done.actions_removed + done.actions_anonymised,
        deliveries_erased=done.deliveries_removed + done.deliveries_anonymised,
    )
    logger.info("erasure %s: %s", erasure.pk, {**done.as_dict(), "cache_keys_removed": keys})
    return erasure


def constituent_export(*, email: str) -> dict:
    """Everything held about whoever used `email` (any case), as plain data for JSON: every
    action with its confirmation, deliveries (status, message, attempts) and calls."""
    actions = (
        _actions_of(email)
        .select_related("campaign", "referred_by")
        .prefetch_related(
            "skipped_officials",
            "calls__official",
            "deliveries__official",
            "deliveries__attempt_log",
        )
        .order_by("created_at", "pk")
    )
    return {
        "email": email.strip(),
        "exported_at": timezone.now().isoformat(),
        "actions": [_action_export(action) for action in actions],
    }


# --- the work -----------------------------------------------------------------------------


def _forget(actions, *, now) -> tuple[Forgotten, set[str]]:
    """One transaction over `actions` (a few hundred), read again and locked, so that one
    confirmed meanwhile is judged as it is now: those that never counted are deleted, the rest
    anonymised. Returns what was done and the tokens (hashed email and IP address) of the
    Redis keys to delete."""
    fields = ("pk", "email", "ip_hash", "campaign_id", "confirmed_at", "campaign__double_opt_in")
    with transaction.atomic():
        rows = list(actions.select_for_update(of=("self",)).values(*fields))
        tokens = {row["ip_hash"] for row in rows if row["ip_hash"]}
        tokens |= {mailbox_digest(row["email"]) for row in rows if row["email"]}
        removed = [r for r in rows if r["confirmed_at"] is None and r["campaign__double_opt_in"]]
        removed_ids = {r["pk"] for r in removed}
        kept = [r["pk"] for r in rows if r["pk"] not in removed_ids]

        # Deliveries whose folders may hold screenshots: every one these actions have.
        delivery_ids = list(
            Delivery.objects.filter(action_id__in=[r["pk"] for r in rows]).values_list(
                "pk", flat=True
            )
        )
        unfinished = Delivery.objects.filter(action_id__in=kept).exclude(status__in=FINISHED)
        deliveries_removed = unfinished.delete()[1].get(Delivery._meta.label, 0)
        deliveries_removed += Delivery.objects.filter(action_id__in=removed_ids).count()
        _uncount(removed)
        Action.objects.filter(pk__in=removed_ids).delete()

        finished = Delivery.objects.filter(action_id__in=kept)
        Attempt.objects.filter(delivery__in=finished).update(**_ANONYMOUS_ATTEMPT)
        # Marked told, so that no failure notice is ever addressed to the blank email.
        finished.filter(constituent_notified_at__isnull=True).update(constituent_notified_at=now)
        deliveries_anonymised = finished.update(**_ANONYMOUS_DELIVERY)
        Action.objects.filter(pk__in=kept).update(**_ANONYMOUS_ACTION)
        # Inside the transaction: should it roll back, screenshots of rows still held are lost,
        # which is better than screenshots kept of rows that no later purge will look at.
        evidence_removed = _evidence_delete(str(pk) for pk in delivery_ids)
    forgotten = Forgotten(
        actions_removed=len(removed_ids),
        actions_anonymised=len(kept),
        deliveries_removed=deliveries_removed,
        deliveries_anonymised=deliveries_anonymised,
        evidence_removed=evidence_removed,
    )
    return forgotten, tokens


def _uncount(removed_rows) -> None:
    """Take deleted actions off their campaigns' maintained counts (ActionCount), on slot 0,
    as `services.actions_delete` does."""
    totals: dict[int, list[int]] = {}
    for row in removed_rows:
        counts = totals.setdefault(row["campaign_id"], [0, 0])
        counts[0] += 1
        counts[1] += row["confirmed_at"] is not None
    for campaign_id, (actions, confirmed) in totals.items():
        ActionCount.objects.get_or_create(campaign_id=campaign_id, slot=0)
        ActionCount.objects.filter(campaign_id=campaign_id, slot=0).update(
            actions=F("actions") - actions, confirmed=F("confirmed") - confirmed
        )


def _evidence_delete(delivery_ids) -> int:
    """Delete WEB_FORM_EVIDENCE_DIR/<delivery id>/ of each delivery; returns how many were
    there."""
    root = Path(settings.WEB_FORM_EVIDENCE_DIR)
    removed = 0
    for delivery_id in delivery_ids:
        folder = root / delivery_id
        if folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed


# --- Redis --------------------------------------------------------------------------------


def _cache_clients() -> list[redis.Redis]:
    cache = settings.CACHES[DEFAULT_CACHE_ALIAS]
    if cache["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return []  # a process-local cache: nothing another process could delete
    locations = cache["LOCATION"]
    locations = [locations] if isinstance(locations, str) else list(locations)
    # A sick Redis costs the purge a bounded wait (and an error), not a hung worker.
    return [
        redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) for url in locations
    ]


def _cache_forget(tokens: set[str], *, patterns: list[str] = ()) -> int:
    """Delete the cache's Redis keys with a `:`-separated part among `tokens` (the rate
    limits' hashed emails and addresses), and those matching `patterns`. Returns how many."""
    tokens = {token for token in tokens if token}
    if not tokens and not patterns:
        return 0
    removed = 0
    for client in _cache_clients():
        doomed = [
            key
            for key in client.scan_iter(count=1000)
            if tokens.intersection(key.decode(errors="replace").split(":"))
        ]
        for pattern in patterns:
            doomed += list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(doomed), 1000):
            removed += client.delete(*doomed[start : start + 1000])
    return removed


# --- export -------------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _action_export(action: Action) -> dict:
    return {
        "id": str(action.public_id),
        "campaign": {"slug": action.campaign.slug, "title": action.campaign.title},
        "created_at": _when(action.created_at),
        "confirmation": {
            "confirmation_sent_at": _when(action.confirmation_sent_at),
            "reminder_sent_at": _when(action.reminder_sent_at),
            "confirmed_at": _when(action.confirmed_at),
        },
        "contact": {
            "prefix": action.prefix,
            **{field: getattr(action, field) for field in Action.CONTACT_FIELDS},
            "phone": action.phone,
        },
        "subject": action.subject,
        "message": action.message,
        "consent_text": action.consent_text,
        "keep_informed": action.keep_informed,
        "keep_informed_text": action.keep_informed_text,
        "source": action.source,
        "referral_code": action.referral_code,
        "referred_by": str(action.referred_by.public_id) if action.referred_by else None,
        "ip_address_hash": action.ip_hash,
        "skipped_officials": [str(o) for o in action.skipped_officials.all()],
        "deliveries": [
            _delivery_export(d) for d in sorted(action.deliveries.all(), key=lambda d: d.created_at)
        ],
        "calls": [
            {
                "official": str(call.official),
                "outcome": call.outcome,
                "created_at": _when(call.created_at),
            }
            for call in sorted(action.calls.all(), key=lambda c: c.created_at)
        ],
    }


def _delivery_export(delivery: Delivery) -> dict:
    return {
        "id": str(delivery.id),
        "official": str(delivery.official),
        "channel": delivery.channel,
        "status": delivery.status,
        "variant": delivery.variant,
        "subject": delivery.subject,
        "body": delivery.body,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "manual_reason": delivery.manual_reason,
        "created_at": _when(delivery.created_at),
        "queued_at": _when(delivery.queued_at),
        "sent_at": _when(delivery.sent_at),
        "failed_at": _when(delivery.failed_at),
        "constituent_notified_at": _when(delivery.constituent_notified_at),
        "attempt_log": [
            {
                "number": attempt.number,
                "channel": attempt.channel,
                "started_at": _when(attempt.started_at),
                "finished_at": _when(attempt.finished_at),
                "outcome": attempt.outcome,
                "error": attempt.error,
                "final_url": attempt.final_url,
                "success_seen": attempt.success_seen,
                "screenshot": attempt.screenshot,
            }
            for attempt in delivery.attempt_log.all()
        ],
    }
