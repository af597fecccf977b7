"""The writes the send loop makes for every delivery, in as few round trips as the database
allows. A write does either part or both, in one transaction:

    write(claim=next, after_sent=previous)   previous: sending → sent, its attempt finished
                                             next: queued → sending under a lease, its
                                                   attempt begun
    claim(...), record_sent(...)             the same, waiting for the answer

Recording a send and claiming a next delivery together means one commit per delivery, and a
kill can still only fall between a send and its record. Each commit waits for the disk, as
PostgreSQL's do unless its operator chose otherwise.

On PostgreSQL each write is a single statement (data-modifying CTEs), and `write()` returns
once it is sent, before PostgreSQL answers (alerts.inflight): the send loop has it run while
it talks SMTP. At a thousand messages a second, the ORM's statements and commits cost more
than the send itself, and waiting for them a third more (bench/delivery.py). Elsewhere
(SQLite in development) the ORM does the same work inside transaction.atomic(), at once.
Both are tested against the same cases.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import Error, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Attempt, Campaign, Delivery
from .inflight import Statement

Status = Delivery.Status


@dataclass(frozen=True)
class Sent:
    """A delivery that was sent and is not recorded yet."""

    delivery: Delivery
    attempt_id: int


def read_due(delivery_ids) -> list[Delivery]:
    """The deliveries among these that are queued and due, with what sending them needs, in
    one query for the deliveries (their actions, officials and last attempt numbers) and one
    for their campaigns (most batches share one). Only rows read here can be claimed."""
    now = timezone.now()
    last_attempt = Attempt.objects.filter(delivery=OuterRef("pk")).order_by("-number")
    due = list(
        Delivery.objects.select_related("action", "official")
        .filter(pk__in=list(delivery_ids), status=Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .annotate(last_attempt_number=Coalesce(Subquery(last_attempt.values("number")[:1]), 0))
        .order_by("queued_at")
    )
    campaigns = Campaign.objects.in_bulk({delivery.action.campaign_id for delivery in due})
    for delivery in due:
        delivery.action.campaign = campaigns[delivery.action.campaign_id]
    return due


class Pending:
    """One write of the ledger: on its way (PostgreSQL) or done (ORM). `result()` waits for it
    once and returns the attempt id of its claim (of `claim`), or None (not claimed, or
    nothing to claim).

    A failed write takes the record it carried down with it; but that send happened, so the
    record is tried once more, on its own, before the error is raised."""

    def __init__(self, book, claim: Delivery | None, after_sent: Sent | None, answer, *, retry):
        self.claim = claim
        self._book = book
        self._carried = after_sent if retry else None
        self._answer = answer
        self._settled = False
        self._value = self._error = None

    def result(self) -> int | None:
        if self._error is not None:
            raise self._error
        if not self._settled:
            self._settled = True
            try:
                self._value = self._answer()
            except BaseException as exc:  # kept: whoever asks again hears the same
                self._error = exc
                if self._carried and isinstance(exc, Error):
                    self._book.write(after_sent=self._carried, retry=False).result()
                raise
        return self._value


class _Ledger:
    """The writes of the send loop. `write()` may return before the database has answered
    (PostgresLedger): nothing else may use the connection until its `result()` is in."""

    def write(self, *, claim=None, after_sent=None, retry=True) -> Pending:
        raise NotImplementedError

    def claim(self, delivery: Delivery, *, after_sent: Sent | None = None) -> int | None:
        """Claim `delivery` (as read_due read it) if it is still queued, due and as it was read
        (same attempt count: otherwise another worker took it in between). Its attempt is
        numbered after every earlier one: an operator's retry resets the count of attempts
        left, not the history; and as any claim changes the count, the last number read is
        still the last one when the claim succeeds. Returns the new attempt's id, or None."""
        return self.write(claim=delivery, after_sent=after_sent).result()

    def record_sent(self, sent: Sent) -> None:
        """Only over our own claim: if the lease ran out and the sweep let another worker
        claim the delivery again, the state is theirs to record."""
        self.write(after_sent=sent).result()

    @staticmethod
    def release(delivery: Delivery, attempt_id: int) -> bool:
        """Undo a claim whose send never started (the batch stopped after claiming it): queued
        again as it was before, its attempt gone. Only while that attempt is still there and
        the delivery still under it: releasing twice, or after the sweep or another worker took
        the delivery over, changes nothing. Rare, so plain ORM on both ledgers."""
        ours = Attempt.objects.filter(pk=attempt_id, delivery_id=delivery.pk, outcome="")
        with transaction.atomic():
            released = (
                Delivery.objects.filter(
                    pk=delivery.pk, status=Status.SENDING, attempts=delivery.attempts
                )
                .filter(Exists(ours))
                .update(
                    status=Status.QUEUED,
                    attempts=delivery.attempts - 1,
                    lease_expires_at=None,
                    updated_at=timezone.now(),
                )
            )
            if released:
                ours.delete()
        return bool(released)


class OrmLedger(_Ledger):
    def write(self, *, claim=None, after_sent=None, retry=True) -> Pending:
        pending = Pending(
            self, claim, after_sent, lambda: self._write(claim, after_sent), retry=retry
        )
        with contextlib.suppress(Error):  # kept in `pending`, raised by its result()
            pending.result()
        return pending

    def _write(self, claim, after_sent) -> int | None:
        now = timezone.now()
        lease_expires_at = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
        with transaction.atomic():
            if after_sent:
                self._record_sent(after_sent, now)
            if claim is None:
                return None
            claimed = (
                Delivery.objects.filter(pk=claim.pk, status=Status.QUEUED, attempts=claim.attempts)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .update(
                    status=Status.SENDING,
                    attempts=claim.attempts + 1,
                    sending_started_at=now,
                    lease_expires_at=lease_expires_at,
                    updated_at=now,
                )
            )
            if not claimed:
                return None
            attempt = Attempt.objects.create(
                delivery=claim,
                number=claim.last_attempt_number + 1,
                channel=claim.channel,
                started_at=now,
            )
        _claimed(claim, now, lease_expires_at)
        return attempt.pk

    @staticmethod
    def _record_sent(sent: Sent, now) -> None:
        marked = Delivery.objects.filter(
            pk=sent.delivery.pk, status=Status.SENDING, attempts=sent.delivery.attempts
        ).update(
            status=Status.SENT,
            sent_at=now,
            lease_expires_at=None,
            next_attempt_at=None,
            last_error="",
            updated_at=now,
        )
        if marked:
            Attempt.objects.filter(pk=sent.attempt_id).update(
                finished_at=now, outcome=Attempt.Outcome.SENT
            )


def _claimed(delivery, now, lease_expires_at):
    """Bring the in-memory row up to date with its claim."""
    delivery.status = Status.SENDING
    delivery.attempts += 1
    delivery.last_attempt_number += 1
    delivery.sending_started_at = now
    delivery.lease_expires_at = lease_expires_at


def _sql(text: str) -> str:
    """Only table names are filled in, from the models: there is no input here."""
    return text.format(delivery=Delivery._meta.db_table, attempt=Attempt._meta.db_table)


_TYPES = {
    "now": "timestamptz",
    "lease_expires_at": "timestamptz",
    "claim_id": "uuid",
    "attempts": "smallint",
    "number": "smallint",
    "sent_id": "uuid",
    "sent_attempts": "smallint",
    "sent_attempt_id": "bigint",
}


def _statement(*ctes: str, then: str) -> Statement:
    """WITH these CTEs, then a final SELECT."""
    return Statement(_sql(f"WITH {', '.join(ctes)} {then}"), types=_TYPES)


_RECORD_SENT = """
    marked AS (
        UPDATE {delivery}
        SET status = 'sent', sent_at = %(now)s, lease_expires_at = NULL,
            next_attempt_at = NULL, last_error = '', updated_at = %(now)s
        WHERE id = %(sent_id)s AND status = 'sending' AND attempts = %(sent_attempts)s
        RETURNING id
    ),
    finished AS (
        UPDATE {attempt} SET finished_at = %(now)s, outcome = 'sent'
        WHERE id = %(sent_attempt_id)s AND EXISTS (SELECT FROM marked)
    )"""
_CLAIM = """
    claimed AS (
        UPDATE {delivery}
        SET status = 'sending', attempts = attempts + 1, sending_started_at = %(now)s,
            lease_expires_at = %(lease_expires_at)s, updated_at = %(now)s
        WHERE id = %(claim_id)s AND status = 'queued' AND attempts = %(attempts)s
          AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
        RETURNING id, attempts, channel
    ),
    begun AS (
        INSERT INTO {attempt} (delivery_id, number, channel, started_at, outcome, error)
        SELECT id, %(number)s, channel, %(now)s, '', '' FROM claimed
        RETURNING id
    )"""
CLAIM = _statement(_CLAIM, then="SELECT id FROM begun")
RECORD_SENT_AND_CLAIM = _statement(_RECORD_SENT, _CLAIM, then="SELECT id FROM begun")
RECORD_SENT = _statement(_RECORD_SENT, then="SELECT FROM marked")


class PostgresLedger(_Ledger):
    """The same writes as OrmLedger, each one statement, its answer read when asked for."""

    def write(self, *, claim=None, after_sent=None, retry=True) -> Pending:
        now = timezone.now()
        lease_expires_at = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
        params = {"now": now}
        if claim is not None:
            params |= {
                "lease_expires_at": lease_expires_at,
                "claim_id": claim.pk,
                "attempts": claim.attempts,
                "number": claim.last_attempt_number + 1,
            }
        if after_sent is not None:
            params |= _sent_params(after_sent)
        if claim is None:
            statement = RECORD_SENT
        else:
            statement = CLAIM if after_sent is None else RECORD_SENT_AND_CLAIM
        inflight = statement.start(params)

        def answer():
            rows = inflight.result()
            if claim is None or not rows:
                return None
            _claimed(claim, now, lease_expires_at)
            return int(rows[0][0])

        return Pending(self, claim, after_sent, answer, retry=retry)


def _sent_params(sent: Sent) -> dict:
    return {
        "sent_id": sent.delivery.pk,
        "sent_attempts": sent.delivery.attempts,
        "sent_attempt_id": sent.attempt_id,
    }


def ledger() -> OrmLedger | PostgresLedger:
    return PostgresLedger() if connection.vendor == "postgresql" else OrmLedger()
