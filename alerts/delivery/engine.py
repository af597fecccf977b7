"""Claim → send → record, for each delivery of a batch; retries; and what the sweep finds.

The engine moves deliveries (through `DeliveryQuerySet.transition`, from the state it expects)
and says what became of them; handing work to the broker is alerts.tasks' business.

    queued → sending → sent
      ↑         ├────→ failed        (permanent error, or out of attempts)
      └─────────┘  transient error: queued again, due after a backoff
"""

import contextlib
import datetime as dt
import logging
import random
import time
import traceback
from dataclasses import dataclass
from enum import StrEnum

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import Error, transaction
from django.utils import timezone

from legislators.models import Official

from ..models import Action, Attempt, Delivery
from .channels import DeliveryError, NeedsConstituent, TransientError, email, sender_for
from .ledger import Sent, ledger, read_due

logger = logging.getLogger(__name__)

Status = Delivery.Status


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    MANUAL = "manual"  # no automatic way left: the constituent is to send it
    SKIPPED = "skipped"  # not queued and due: sent already, taken by another worker, or parked
    DEFERRED = "deferred"  # not started: its batch ran out of time


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_in: float | None = None  # seconds until the retry is due


def _under_claim(delivery):
    """This delivery while still under the claim it was read with: once the sweep gave it to
    another worker, the attempt count differs and nothing here may change it."""
    return Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)


def backoff_seconds(attempt: int) -> float:
    """Exponential (base * 2^(attempt-1)), capped, with full jitter on the upper half so that
    a burst of failures does not come back as a burst."""
    ceiling = min(
        settings.DELIVERY_RETRY_CAP_SECONDS,
        settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not secrecy)


def _sender(delivery):
    if settings.DELIVERY_SANDBOX:
        return email.send_sandboxed
    return sender_for(delivery.channel)


def delivery_send(*, delivery_id) -> Result:
    """Claim, send and record one delivery (SKIPPED when it is not queued and due)."""
    return deliveries_send(delivery_ids=[delivery_id])[str(delivery_id)]


def deliveries_send(*, delivery_ids, budget_seconds: float | None = None) -> dict[str, Result]:
    """Claim, send and record each of these deliveries in turn, each on its own: a delivery
    that fails, even with an unexpected error, or that another worker took, leaves the rest
    alone. Once `budget_seconds` have passed, or the task's soft time limit struck, those not
    yet started (all but the first, at least) are left queued and come back DEFERRED, for the
    caller to hand back to the broker. A database error ends the batch.

    While one delivery is being sent, the database records the send before it and claims the
    one after it, in one statement (alerts.ledger). A send starts only once its own claim is
    in; the only record that may not be in yet is its predecessor's."""
    started = time.monotonic()
    results = {str(delivery_id): Result(Outcome.SKIPPED) for delivery_id in delivery_ids}
    book = ledger()
    due = read_due(results)
    write = book.write(claim=due[0]) if due else None  # the one write on its way, if any
    held = None  # (delivery, attempt id): claimed, its send not begun
    unrecorded = None  # the last delivery sent, its record not yet on its way
    stopped = False  # by the soft time limit
    try:
        for index, delivery in enumerate(due):
            pk = str(delivery.pk)
            if write is None or write.claim is not delivery:  # the batch stopped before it
                results[pk] = Result(Outcome.DEFERRED)
                continue
            attempt_id = write.result()
            held = (delivery, attempt_id) if attempt_id is not None else None
            following = due[index + 1] if index + 1 < len(due) else None
            out_of_time = budget_seconds is not None and time.monotonic() - started > budget_seconds
            if index and (out_of_time or stopped):  # the first always starts: progress
                following = None
                if held:
                    book.release(*held)
                    held = None
                    results[pk] = Result(Outcome.DEFERRED)
            write = None
            if following or unrecorded:
                write = book.write(claim=following, after_sent=unrecorded)
                unrecorded = None
            if held is None:
                continue
            held = None  # from here on, the send may have begun: its lease decides
            # Outside any transaction on purpose: a rollback after a send would mean sending again.
            try:
                evidence = _sender(delivery)(delivery)
            except DeliveryError as exc:
                _settle(write)
                results[pk] = _after_error(delivery, attempt_id, exc)
            except Exception as exc:  # noqa: BLE001 (a bug, or the soft time limit: retried)
                _settle(write)
                results[pk] = _after_unexpected(delivery, attempt_id, exc)
                stopped = isinstance(exc, SoftTimeLimitExceeded)
            else:
                _keep_evidence(attempt_id, evidence)
                unrecorded = Sent(delivery, attempt_id)
                results[pk] = Result(Outcome.SENT)
        if write is not None:
            write.result()
            write = None
        if unrecorded:
            book.record_sent(unrecorded)
    except BaseException:
        _mend(book, write, held, unrecorded)
        raise
    for delivery_id, result in results.items():
        if result.outcome == Outcome.SENT:
            logger.info("delivery %s sent", delivery_id)
        elif result.outcome == Outcome.SKIPPED:
            logger.info("delivery %s not due or not queued; nothing to do", delivery_id)
    return results


def _mend(book, write, held, unrecorded):
    """The batch ends on an error (a database error, or the soft time limit while waiting for
    one): put right what can be. The last send's record, if it never left, is made; a claim
    whose send never began, and one made ahead and answered, are released. Each at best: the
    error that ended the batch is the one raised. A claim whose answer was lost (a cut-off
    wait) waits for its lease, as the delivery a killed worker was sending does."""
    try:
        ahead = write.result() if write is not None else None
    except BaseException:  # noqa: BLE001 (raised already, and again by the caller)
        ahead = None
    with contextlib.suppress(Error):
        if unrecorded:
            book.record_sent(unrecorded)
    unused = [held] if held else []
    if write is not None and write.claim is not None and ahead is not None:
        unused.append((write.claim, ahead))
    for delivery, attempt_id in unused:
        with contextlib.suppress(Error):
            book.release(delivery, attempt_id)


def _settle(write):
    """Before the error's own writes: the answer to the write on its way, kept in it for the
    next round (which raises its error, if it had one). atomic() cannot begin meanwhile."""
    if write is not None:
        with contextlib.suppress(Error):
            write.result()


def _after_unexpected(delivery, attempt_id, exc) -> Result:
    """Not a receiver's answer but our own failure. Logged with where it happened, without its
    message, which may quote personal data."""
    where = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("delivery %s: unexpected %s\n%s", delivery.pk, type(exc).__name__, where)
    return _after_error(delivery, attempt_id, TransientError(f"unexpected {type(exc).__name__}"))


def _evidence_fields(evidence) -> dict:
    """What a browser's attempt saw, for its Attempt row (other channels have none)."""
    if evidence is None:
        return {}
    return {
        "final_url": evidence.final_url[:2000],
        "success_seen": evidence.success_seen,
        "screenshot": evidence.screenshot,
    }


def _keep_evidence(attempt_id, evidence) -> None:
    if evidence is not None:
        Attempt.objects.filter(pk=attempt_id).update(**_evidence_fields(evidence))


def _attempt_ended(attempt_id, *, now, outcome, reason, evidence) -> None:
    Attempt.objects.filter(pk=attempt_id).update(
        finished_at=now, outcome=outcome, error=reason, **_evidence_fields(evidence)
    )


def _after_error(delivery, attempt_id, exc) -> Result:
    now = timezone.now()
    reason = str(exc)[:2000] or type(exc).__name__
    if isinstance(exc, NeedsConstituent):
        with transaction.atomic():
            _under_claim(delivery).transition(
                source=Status.SENDING,
                target=Status.MANUAL,
                now=now,
                lease_expires_at=None,
                manual_reason=reason[:300],
                last_error=reason,
            )
            _attempt_ended(
                attempt_id,
                now=now,
                outcome=Attempt.Outcome.FAILED,
                reason=reason,
                evidence=exc.evidence,
            )
        logger.warning("delivery %s left to the constituent: %s", delivery.pk, reason)
        return Result(Outcome.MANUAL)
    out_of_attempts = delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    resume_at = getattr(exc, "resume_at", None)
    if isinstance(exc, TransientError) and (resume_at or not out_of_attempts):
        wait = (
            max((resume_at - now).total_seconds(), 0.0)
            if resume_at
            else backoff_seconds(delivery.attempts)
        )
        spent = {} if resume_at is None else {"attempts": delivery.attempts - 1}
        with transaction.atomic():
            _under_claim(delivery).transition(
                source=Status.SENDING,
                target=Status.QUEUED,
                now=now,
                next_attempt_at=now + dt.timedelta(seconds=wait),
                lease_expires_at=None,
                last_error=reason,
                **spent,
            )
            _attempt_ended(
                attempt_id,
                now=now,
                outcome=Attempt.Outcome.RETRY,
                reason=reason,
                evidence=exc.evidence,
            )
        logger.warning(
            "delivery %s: transient error on attempt %s, retry in %.0fs",
            delivery.pk,
            delivery.attempts,
            wait,
        )
        return Result(Outcome.RETRY, retry_in=wait)

    if out_of_attempts and isinstance(exc, TransientError):
        reason = f"gave up after {delivery.attempts} attempts: {reason}"
    with transaction.atomic():
        _under_claim(delivery).fail(reason=reason, now=now)
        _attempt_ended(
            attempt_id,
            now=now,
            outcome=Attempt.Outcome.FAILED,
            reason=reason,
            evidence=exc.evidence,
        )
    logger.warning("delivery %s failed: %s", delivery.pk, type(exc).__name__)
    return Result(Outcome.FAILED)


def deliveries_by_browser(*, delivery_ids) -> list[str]:
    """Those of these deliveries that a browser worker sends (their office's web form)."""
    return [
        str(pk)
        for pk in Delivery.objects.filter(
            pk__in=list(delivery_ids), channel=Official.Channel.WEB_FORM
        ).values_list("pk", flat=True)
    ]


def deliveries_handed_over(*, delivery_ids, now=None) -> None:
    """The broker has these deliveries' task: the sweep leaves them alone for a while."""
    Delivery.objects.filter(pk__in=list(delivery_ids)).update(enqueued_at=now or timezone.now())


def actions_to_tell(*, delivery_ids) -> list[int]:
    """The actions of these deliveries (just ended: sent, failed, or fallen to the constituent)
    whose last attempt has now ended with news for the constituent (`with_notices_due`).

    Two workers ending an action's last two deliveries at once: each reads after its own
    ending was committed, so at least the second sees none in flight, and the notice itself
    makes sure only one of them tells."""
    delivery_ids = list(delivery_ids)
    if not delivery_ids:
        return []
    ended = Delivery.objects.filter(pk__in=delivery_ids).values("action_id")
    due = Action.objects.filter(pk__in=ended).with_notices_due().order_by()
    return list(due.values_list("pk", flat=True))


@dataclass(frozen=True)
class Reclaimed:
    queued: list[str]
    failed: list[str]  # out of attempts: the constituent is to be told


def deliveries_reclaim(*, delivery_ids, now=None) -> Reclaimed:
    """Take back `sending` deliveries whose lease expired (their worker died): queue them
    again, or fail those with no attempts left."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(pk__in=list(delivery_ids)).stuck(now=now)
    queued, failed = [], []
    for delivery_id, attempts in stale.values_list("pk", "attempts"):
        row = Delivery.objects.filter(pk=delivery_id, attempts=attempts)
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            reason = f"gave up after {attempts} attempts: the worker stopped mid-attempt"
            if row.fail(reason=reason, now=now):
                failed.append(str(delivery_id))
        elif row.transition(
            source=Status.SENDING,
            target=Status.QUEUED,
            now=now,
            lease_expires_at=None,
            next_attempt_at=None,
            enqueued_at=None,
            last_error="the worker stopped mid-attempt",
        ):
            queued.append(str(delivery_id))
    return Reclaimed(queued=queued, failed=failed)


@dataclass(frozen=True)
class Sweep:
    """What the sweep found to do: ids, for the caller to hand to the broker."""

    reclaimed: Reclaimed
    unhanded: list[str]  # queued and due, the broker's task lost or never published
    unconfirmed: list[int]  # actions whose confirmation email never went out
    untold: list[int]  # actions whose notice (a failure, a late success) never went out


def deliveries_sweep(*, now=None, batch: int = 1000) -> Sweep:
    """What keeps the pipeline from losing anything, run periodically by beat:

    - a `sending` delivery past its lease (its worker died) is queued again, or failed when it
      has no attempts left;
    - a `queued` delivery that is due and was not handed to the broker recently (the broker
      was down, or lost the message) is found, to be handed over again;
    - so are confirmation emails, and the notices of failed (or late sent) deliveries of
      actions with nothing left in flight, that never went out.
    """
    now = now or timezone.now()
    stuck = Delivery.objects.stuck(now=now).values_list("pk", flat=True)[:batch]
    reclaimed = deliveries_reclaim(delivery_ids=list(stuck), now=now)
    unhanded = Delivery.objects.unhanded(now=now).order_by("queued_at")
    settled_before = now - dt.timedelta(seconds=settings.DELIVERY_REQUEUE_AFTER_SECONDS)
    unconfirmed = Action.objects.filter(
        campaign__double_opt_in=True,
        confirmation_sent_at__isnull=True,
        confirmed_at__isnull=True,
        created_at__lt=settled_before,
        created_at__gt=now - dt.timedelta(days=7),
    )
    owed = Delivery.objects.notices_owed().filter(updated_at__lt=settled_before)
    untold = Action.objects.filter(pk__in=owed.values("action_id")).with_notices_due().order_by()
    return Sweep(
        reclaimed=reclaimed,
        unhanded=[str(pk) for pk in unhanded.values_list("pk", flat=True)[:batch]],
        unconfirmed=list(unconfirmed.values_list("pk", flat=True)[:batch]),
        untold=list(untold.values_list("pk", flat=True)[:batch]),
    )
