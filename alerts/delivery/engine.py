"""Claim → send → record, for one delivery; retries; and the sweep that loses nothing.

Only these functions move a delivery past `queued`, each with a conditional update from the
state it expects (the affected-row count says whether it won):

    pending → queued → sending → sent
                ↑         ├────→ failed        (permanent error, or out of attempts)
                └─────────┘  transient error: queued again, due after a backoff
    contact form only: manual (the constituent sends it through the official's form)
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
from django.db.models import Q
from django.utils import timezone

from ..models import Action, Attempt, Delivery
from .channels import DeliveryError, TransientError, email, sender_for
from .ledger import Sent, ledger, read_due

logger = logging.getLogger(__name__)

Status = Delivery.Status


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # not queued and due: sent already, taken by another worker, or parked
    DEFERRED = "deferred"  # not started: its batch ran out of time


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_in: float | None = None  # seconds until the retry is due


def _transition(delivery_id, *, from_status, to_status, attempts=None, **fields) -> bool:
    """Move one delivery between states; False when it was not in `from_status` any more (or,
    given `attempts`, no longer under that claim: the sweep gave it to another worker)."""
    claim = {} if attempts is None else {"attempts": attempts}
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=from_status, **claim).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
    )


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
                _sender(delivery)(delivery)
            except DeliveryError as exc:
                _settle(write)
                results[pk] = _after_error(delivery, attempt_id, exc)
            except Exception as exc:  # noqa: BLE001 (a bug, or the soft time limit: retried)
                _settle(write)
                results[pk] = _after_unexpected(delivery, attempt_id, exc)
                stopped = isinstance(exc, SoftTimeLimitExceeded)
            else:
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


def _after_error(delivery, attempt_id, exc) -> Result:
    now = timezone.now()
    reason = str(exc)[:2000] or type(exc).__name__
    out_of_attempts = delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    if isinstance(exc, TransientError) and not out_of_attempts:
        wait = backoff_seconds(delivery.attempts)
        with transaction.atomic():
            _transition(
                delivery.pk,
                from_status=Status.SENDING,
                to_status=Status.QUEUED,
                attempts=delivery.attempts,
                next_attempt_at=now + dt.timedelta(seconds=wait),
                lease_expires_at=None,
                last_error=reason,
            )
            Attempt.objects.filter(pk=attempt_id).update(
                finished_at=now, outcome=Attempt.Outcome.RETRY, error=reason
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
        _fail(delivery.pk, from_status=Status.SENDING, attempts=delivery.attempts, reason=reason)
        Attempt.objects.filter(pk=attempt_id).update(
            finished_at=now, outcome=Attempt.Outcome.FAILED, error=reason
        )
    logger.warning("delivery %s failed: %s", delivery.pk, type(exc).__name__)
    return Result(Outcome.FAILED)


def _fail(delivery_id, *, from_status, reason, attempts=None) -> bool:
    failed = _transition(
        delivery_id,
        from_status=from_status,
        to_status=Status.FAILED,
        attempts=attempts,
        failed_at=timezone.now(),
        lease_expires_at=None,
        last_error=reason,
    )
    if failed:
        transaction.on_commit(lambda: _failure_notice_enqueue(delivery_id))
    return failed


def _failure_notice_enqueue(delivery_id):
    from kombu.exceptions import OperationalError

    from ..tasks import notify_failure

    try:
        notify_failure.delay(str(delivery_id))
    except OperationalError:
        logger.warning("broker unavailable; failure notice for %s left for the sweep", delivery_id)


def deliveries_enqueue(*, delivery_ids, countdown: float | None = None) -> int:
    """Hand delivery ids (and nothing else) to the broker, DELIVERY_BATCH_SIZE to a task, and
    record when. Returns how many were handed over."""
    from kombu.exceptions import OperationalError

    from ..tasks import deliver

    delivery_ids = [str(delivery_id) for delivery_id in delivery_ids]
    size = settings.DELIVERY_BATCH_SIZE
    handed = []
    for start in range(0, len(delivery_ids), size):
        batch = delivery_ids[start : start + size]
        try:
            deliver.apply_async((batch,), countdown=countdown)
        except OperationalError:
            # The rows are committed as `queued`; the sweep hands them over later.
            logger.warning("broker unavailable; %s deliveries left for the sweep", len(batch))
            break
        handed += batch
    if handed:
        Delivery.objects.filter(pk__in=handed).update(enqueued_at=timezone.now())
    return len(handed)


def deliveries_retry(*, delivery_ids) -> int:
    """An operator's retry: failed deliveries only, queued afresh. Returns how many."""
    now = timezone.now()
    ids = list(
        Delivery.objects.filter(pk__in=delivery_ids, status=Status.FAILED).values_list(
            "pk", flat=True
        )
    )
    retried = Delivery.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.QUEUED,
        attempts=0,
        queued_at=now,
        next_attempt_at=None,
        failed_at=None,
        updated_at=now,
    )
    transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=ids))
    return retried


def deliveries_reclaim(*, delivery_ids, now=None) -> tuple[int, int]:
    """Take back `sending` deliveries whose lease expired (their worker died): queue them
    again, or fail those with no attempts left. Returns (queued again, failed)."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(
        pk__in=delivery_ids, status=Status.SENDING, lease_expires_at__lt=now
    )
    queued = failed = 0
    for delivery_id, attempts in stale.values_list("pk", "attempts"):
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            reason = f"gave up after {attempts} attempts: the worker stopped mid-attempt"
            failed += _fail(delivery_id, from_status=Status.SENDING, reason=reason)
        elif _transition(
            delivery_id,
            from_status=Status.SENDING,
            to_status=Status.QUEUED,
            lease_expires_at=None,
            next_attempt_at=None,
            enqueued_at=None,
            last_error="the worker stopped mid-attempt",
        ):
            queued += 1
    return queued, failed


@dataclass
class SweepSummary:
    reclaimed: int = 0
    requeued: int = 0
    abandoned: int = 0
    confirmations: int = 0
    notices: int = 0


def deliveries_sweep(*, now=None, batch: int = 1000) -> SweepSummary:
    """What keeps the pipeline from losing anything, run periodically by beat:

    - a `sending` delivery past its lease (its worker died) is queued again, or failed when it
      has no attempts left;
    - a `queued` delivery that is due and was not handed to the broker recently (the broker
      was down, or lost the message) is handed over again;
    - a confirmation email or failure notice that never went out is sent.
    """
    now = now or timezone.now()
    summary = SweepSummary()
    stale = Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
    reclaimed = deliveries_reclaim(delivery_ids=list(stale.values_list("pk", flat=True)[:batch]))
    summary.reclaimed, summary.abandoned = reclaimed

    requeue_before = now - dt.timedelta(seconds=settings.DELIVERY_REQUEUE_AFTER_SECONDS)
    due = (
        Delivery.objects.filter(status=Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
        .order_by("queued_at")
        .values_list("pk", flat=True)[:batch]
    )
    summary.requeued = deliveries_enqueue(delivery_ids=list(due))

    from ..tasks import notify_failure, send_confirmation

    unconfirmed = Action.objects.filter(
        campaign__double_opt_in=True,
        confirmation_sent_at__isnull=True,
        confirmed_at__isnull=True,
        created_at__lt=requeue_before,
        created_at__gt=now - dt.timedelta(days=7),
    ).values_list("pk", flat=True)[:batch]
    for action_id in unconfirmed:
        send_confirmation.delay(action_id)
        summary.confirmations += 1
    unnotified = Delivery.objects.filter(
        status=Status.FAILED, constituent_notified_at__isnull=True, failed_at__lt=requeue_before
    ).values_list("pk", flat=True)[:batch]
    for delivery_id in unnotified:
        notify_failure.delay(str(delivery_id))
        summary.notices += 1
    return summary
