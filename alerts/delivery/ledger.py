"""The writes the send loop makes for every delivery. One write does either part or both, in one
transaction:

    write(claim=next, after_sent=previous)   previous: sending → sent, its attempt finished
                                             next: queued → sending under a lease, its
                                                   attempt begun
    claim(...), record_sent(...)             the same, waiting for the answer

Recording a send and claiming the next delivery together means one commit per delivery, and a
kill can still only fall between a send and its record. `write()` returns before the database
has answered (alerts.delivery.ahead): the send loop has it committed while it talks to the next
receiver.

Two forms of the same writes, tested against the same cases: the ORM's, through
`DeliveryQuerySet.transition` (SQLite, in development), and on PostgreSQL one statement
(data-modifying CTEs) through Django's cursor, its moves checked against the same table of
transitions and its status values taken from the model's choices. At a thousand messages a
second the ORM's four statements and a commit per delivery cost more than the send itself
(bench/delivery.py: 0.19 of the ceiling, against 0.5 and more).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import Error, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Attempt, Campaign, Delivery, check_transition
from . import ahead

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
    last_attempt = Attempt.objects.filter(delivery=OuterRef("pk")).order_by("-number")
    due = list(
        Delivery.objects.due()
        .filter(pk__in=list(delivery_ids))
        .select_related("action", "official__legislator")
        .annotate(last_attempt_number=Coalesce(Subquery(last_attempt.values("number")[:1]), 0))
        .order_by("queued_at")
    )
    campaigns = Campaign.objects.in_bulk({delivery.action.campaign_id for delivery in due})
    for delivery in due:
        delivery.action.campaign = campaigns[delivery.action.campaign_id]
    return due


class Pending:
    """One write of the ledger, on its way or done. `result()` waits for it once and returns
    the attempt id of its claim (of `claim`), or None (not claimed, or nothing to claim).

    A failed write takes the record it carried down with it; but that send happened, so the
    record is tried once more, on its own, before the error is raised."""

    def __init__(self, ledger, claim, after_sent, answer, *, retry: bool):
        self.claim = claim
        self._ledger = ledger
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
                    self._ledger.write(after_sent=self._carried, retry=False).result()
                raise
        return self._value


class _Ledger:
    """The writes of the send loop. `write()` may return before the database has answered:
    the delivery rows it touches are not to be written meanwhile, which is the caller's to see
    to (its `result()` first)."""

    def write(self, *, claim=None, after_sent=None, retry=True) -> Pending:
        now = timezone.now()
        lease_expires_at = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
        answer = self._start(claim, after_sent, now, lease_expires_at)

        def claimed():
            attempt_id = answer()
            if attempt_id is not None:
                _claimed(claim, now, lease_expires_at)
            return attempt_id

        return Pending(self, claim, after_sent, claimed, retry=retry)

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
        the delivery over, changes nothing."""
        ours = Attempt.objects.filter(pk=attempt_id, delivery_id=delivery.pk, outcome="")
        with transaction.atomic():
            released = (
                Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
                .filter(Exists(ours))
                .transition(
                    source=Status.SENDING,
                    target=Status.QUEUED,
                    attempts=delivery.attempts - 1,
                    lease_expires_at=None,
                )
            )
            if released:
                ours.delete()
        return bool(released)

    @staticmethod
    def _start(claim, after_sent, now, lease_expires_at):
        """Begin the write; return a function that waits for its claim's attempt id."""
        raise NotImplementedError


class OrmLedger(_Ledger):
    @staticmethod
    def _start(claim, after_sent, now, lease_expires_at):
        try:
            attempt_id = _orm_write(claim, after_sent, now, lease_expires_at)
        except Error as exc:  # raised by the answer, as a statement's would be
            error = exc

            def answer():
                raise error

            return answer
        return lambda: attempt_id


def _orm_write(claim, after_sent, now, lease_expires_at) -> int | None:
    with transaction.atomic():
        if after_sent:
            _record_sent(after_sent, now)
        if claim is None:
            return None
        claimed = (
            Delivery.objects.due(now=now)
            .filter(pk=claim.pk, attempts=claim.attempts)
            .transition(
                source=Status.QUEUED,
                target=Status.SENDING,
                now=now,
                attempts=claim.attempts + 1,
                sending_started_at=now,
                lease_expires_at=lease_expires_at,
            )
        )
        if not claimed:
            return None
        attempt = Attempt.objects.create(
            delivery_id=claim.pk,
            number=claim.last_attempt_number + 1,
            channel=claim.channel,
            started_at=now,
        )
    return attempt.pk


def _record_sent(sent: Sent, now) -> None:
    marked = Delivery.objects.filter(
        pk=sent.delivery.pk, attempts=sent.delivery.attempts
    ).transition(
        source=Status.SENDING,
        target=Status.SENT,
        now=now,
        sent_at=now,
        lease_expires_at=None,
        next_attempt_at=None,
        last_error="",
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
    "queued": "text",
    "sending": "text",
    "sent": "text",
    "attempt_sent": "text",
}
_STATUSES = {
    "queued": Status.QUEUED.value,
    "sending": Status.SENDING.value,
    "sent": Status.SENT.value,
    "attempt_sent": Attempt.Outcome.SENT.value,
}
_RECORD_SENT = """
    marked AS (
        UPDATE {delivery}
        SET status = %(sent)s, sent_at = %(now)s, lease_expires_at = NULL,
            next_attempt_at = NULL, last_error = '', updated_at = %(now)s
        WHERE id = %(sent_id)s AND status = %(sending)s AND attempts = %(sent_attempts)s
        RETURNING id
    ),
    finished AS (
        UPDATE {attempt} SET finished_at = %(now)s, outcome = %(attempt_sent)s
        WHERE id = %(sent_attempt_id)s AND EXISTS (SELECT FROM marked)
    )"""
_CLAIM = """
    claimed AS (
        UPDATE {delivery}
        SET status = %(sending)s, attempts = attempts + 1, sending_started_at = %(now)s,
            lease_expires_at = %(lease_expires_at)s, updated_at = %(now)s
        WHERE id = %(claim_id)s AND status = %(queued)s AND attempts = %(attempts)s
          AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
        RETURNING id, channel
    ),
    begun AS (
        INSERT INTO {attempt}
            (delivery_id, number, channel, started_at, outcome, error, final_url, screenshot)
        SELECT id, %(number)s, channel, %(now)s, '', '', '', '' FROM claimed
        RETURNING id
    )"""
check_transition(source=Status.QUEUED, target=Status.SENDING)  # _CLAIM
check_transition(source=Status.SENDING, target=Status.SENT)  # _RECORD_SENT


def _with(*ctes: str, then: str) -> ahead.Statement:
    return ahead.Statement(_sql(" ".join(["WITH", ", ".join(ctes), then])), types=_TYPES)


CLAIM = _with(_CLAIM, then="SELECT id FROM begun")
RECORD_SENT_AND_CLAIM = _with(_RECORD_SENT, _CLAIM, then="SELECT id FROM begun")
RECORD_SENT = _with(_RECORD_SENT, then="SELECT FROM marked")


class StatementLedger(_Ledger):
    """The same writes as OrmLedger, each one statement on PostgreSQL, sent ahead."""

    @staticmethod
    def _start(claim, after_sent, now, lease_expires_at):
        params = {"now": now, **_STATUSES}
        if claim is not None:
            params |= {
                "lease_expires_at": lease_expires_at,
                "claim_id": claim.pk,
                "attempts": claim.attempts,
                "number": claim.last_attempt_number + 1,
            }
        if after_sent is not None:
            params |= {
                "sent_id": after_sent.delivery.pk,
                "sent_attempts": after_sent.delivery.attempts,
                "sent_attempt_id": after_sent.attempt_id,
            }
        if claim is None:
            statement = RECORD_SENT
        else:
            statement = CLAIM if after_sent is None else RECORD_SENT_AND_CLAIM
        sent = statement.start(params)

        def answer():
            rows = sent.result()
            return int(rows[0][0]) if claim is not None and rows else None

        return answer


def ledger() -> _Ledger:
    return StatementLedger() if connection.vendor == "postgresql" else OrmLedger()
