"""The two writes the send loop makes for every delivery, in as few round trips as the
database allows.

    claim(next, after_sent=previous):  previous sending → sent, its attempt finished;
                                       next queued → sending under a lease, its attempt begun
    record_sent(last):                 the batch's last delivery sending → sent

Each call is one transaction. Recording a send and claiming the next delivery together means
one commit per delivery, and a kill can still only fall between a send and its record. When
those commits must be on disk is DELIVERY_DURABLE_EVERY's choice (see PostgresLedger.batch).

On PostgreSQL each call is a single statement (data-modifying CTEs): at a thousand messages a
second, the ORM's statements and commits cost more than the send itself (bench/delivery.py).
Elsewhere (SQLite in development) the ORM does the same work inside transaction.atomic().
Both are tested against the same cases.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Attempt, Campaign, Delivery

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


class OrmLedger:
    @contextlib.contextmanager
    def batch(self):
        """Around one task's batch (see PostgresLedger.batch)."""
        yield

    def claim(self, delivery: Delivery, *, after_sent: Sent | None = None) -> int | None:
        """Claim `delivery` (as read_due read it) if it is still queued, due and as it was read
        (same attempt count: otherwise another worker took it in between). Its attempt is
        numbered after every earlier one: an operator's retry resets the count of attempts
        left, not the history; and as any claim changes the count, the last number read is
        still the last one when the claim succeeds. Returns the new attempt's id, or None."""
        now = timezone.now()
        lease_expires_at = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
        with transaction.atomic():
            if after_sent:
                self._record_sent(after_sent, now)
            claimed = (
                Delivery.objects.filter(
                    pk=delivery.pk, status=Status.QUEUED, attempts=delivery.attempts
                )
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .update(
                    status=Status.SENDING,
                    attempts=delivery.attempts + 1,
                    sending_started_at=now,
                    lease_expires_at=lease_expires_at,
                    updated_at=now,
                )
            )
            if not claimed:
                return None
            attempt = Attempt.objects.create(
                delivery=delivery,
                number=delivery.last_attempt_number + 1,
                channel=delivery.channel,
                started_at=now,
            )
        _claimed(delivery, now, lease_expires_at)
        return attempt.pk

    def record_sent(self, sent: Sent) -> None:
        with transaction.atomic():
            self._record_sent(sent, timezone.now())

    @staticmethod
    def _record_sent(sent: Sent, now) -> None:
        """Only over our own claim: if the lease ran out and the sweep let another worker
        claim the delivery again, the state is theirs to record."""
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


def _statement(*ctes: str, then: str) -> str:
    """WITH these CTEs, then a final SELECT."""
    return _sql(f"WITH {', '.join(ctes)} {then}")


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


# The session's own setting is kept, to be put back: a server may ask for more than "on"
# (remote_apply, with a standby), and that choice is the operator's.
SKIP_THE_DISK_WAIT = """
    SELECT before, set_config('synchronous_commit', 'off', false)
    FROM (SELECT current_setting('synchronous_commit') AS before) AS current"""
WAIT_FOR_THE_DISK_AGAIN = "SELECT set_config('synchronous_commit', %(before)s, false)"
# A commit waits for the disk only if its transaction wrote to the log; this writes a record
# there (and nothing anywhere else) whatever became of the batch's rows. The log is flushed in
# order, so every earlier commit of the batch is on disk once this one is.
DURABLE = "SELECT pg_logical_emit_message(true, 'action-alerts', 'end of a delivery batch')"


class PostgresLedger:
    """The same two writes as OrmLedger, each one statement."""

    def __init__(self):
        self._wrote = False

    @contextlib.contextmanager
    def batch(self):
        """With DELIVERY_DURABLE_EVERY = "send" (the default), every record is on disk before the
        next send starts. With "batch", the batch's commits do not wait for the disk. Each is
        still visible at once, to other workers and to the sweep, and a worker killed
        mid-batch loses none of them. They reach the disk within a fraction of a
        second (PostgreSQL's WAL writer), and at the latest with the synchronous commit that
        ends the batch, before its task is acknowledged: the log is flushed in order, so that
        one commit makes every earlier one durable. What a PostgreSQL crash can undo is the
        record of the batch in progress; those deliveries are sent again, with the same
        Message-ID. (A server set to synchronous_commit=off has chosen otherwise for everything,
        and keeps its way.)"""
        if settings.DELIVERY_DURABLE_EVERY != "batch":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute(SKIP_THE_DISK_WAIT)
            [(before, _)] = cursor.fetchall()
        try:
            yield
        except BaseException:
            with contextlib.suppress(DatabaseError):  # the error that ended the batch matters
                self._end_batch(before)
            raise
        self._end_batch(before)

    def _end_batch(self, before):
        with connection.cursor() as cursor:
            cursor.execute(WAIT_FOR_THE_DISK_AGAIN, {"before": before})
            if self._wrote:
                cursor.execute(DURABLE)

    def claim(self, delivery, *, after_sent=None):
        now = timezone.now()
        lease_expires_at = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
        params = {
            "now": now,
            "lease_expires_at": lease_expires_at,
            "claim_id": delivery.pk,
            "attempts": delivery.attempts,
            "number": delivery.last_attempt_number + 1,
        }
        statement = CLAIM
        if after_sent:
            statement = RECORD_SENT_AND_CLAIM
            params |= _sent_params(after_sent)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        if row is None:
            return None
        _claimed(delivery, now, lease_expires_at)
        self._wrote = True
        return row[0]

    def record_sent(self, sent):
        with connection.cursor() as cursor:
            cursor.execute(RECORD_SENT, {"now": timezone.now(), **_sent_params(sent)})


def _sent_params(sent: Sent) -> dict:
    return {
        "sent_id": sent.delivery.pk,
        "sent_attempts": sent.delivery.attempts,
        "sent_attempt_id": sent.attempt_id,
    }


def ledger() -> OrmLedger | PostgresLedger:
    return PostgresLedger() if connection.vendor == "postgresql" else OrmLedger()
