"""Mail servers that misbehave: busy for a while (421), a recipient that does not exist (550),
and one that accepts the connection and never says a word."""

import re
import time

import pytest

from alerts.models import Attempt, Delivery
from tests.support.forms import MESSAGE, submit_actions
from tests.support.processes import wait_until
from tests.support.smtp import SmtpSink

from .conftest import (
    CHAOS_TIMINGS,
    MAX_ATTEMPTS,
    attempts_by_delivery,
    elapsed,
    swept_after,
    wait_all,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class BusySink(SmtpSink):
    """Answers DATA with 421 for `busy_for` seconds from the first message it is offered."""

    def __init__(self, *, busy_for: float, **options):
        super().__init__(**options)
        self.busy_for = busy_for
        self.first_offer: float | None = None

    def reply_for(self, envelope):
        now = time.monotonic()
        if self.first_offer is None:
            self.first_offer = now
        if now - self.first_offer < self.busy_for:
            return "421 4.3.2 try again later"
        return None


def test_a_busy_server_421_is_retried_until_it_accepts(
    chaos_campaign, email_officials, start_worker, make_sink
):
    began = time.monotonic()
    sink = make_sink(BusySink, busy_for=3.0)
    worker = start_worker(email_url=sink.url, concurrency=2)
    submit_actions(chaos_campaign, email_officials, 10)  # 30 deliveries
    expected = 10 * len(email_officials)

    wait_all("sent", expected=expected, timeout=60, worker=worker)

    assert sink.refusals(), "the server never said 421: nothing tested"
    assert {r.reply for r in sink.refusals()} == {"421 4.3.2 try again later"}
    counts = sink.message_id_counts()
    assert set(counts) == {d.message_id for d in Delivery.objects.all()}
    assert {mid: n for mid, n in counts.items() if n > 1} == {}  # 0 duplicates

    retried = 0
    attempts = attempts_by_delivery()
    for delivery in Delivery.objects.all():
        log = attempts[delivery.pk]
        assert 1 <= delivery.attempts == len(log) <= MAX_ATTEMPTS
        assert [a.outcome for a in log] == [Attempt.Outcome.RETRY] * (len(log) - 1) + [
            Attempt.Outcome.SENT
        ]
        assert all("421" in a.error for a in log[:-1]), [a.error for a in log]
        retried += len(log) > 1
    assert retried > 0
    print(
        f"\n{expected} sent; {retried} after a 421 ({len(sink.refusals())} refusals in all, "
        f"at most {max(Delivery.objects.values_list('attempts', flat=True))} attempts); "
        f"took {elapsed(began)}"
    )


def test_a_recipient_refused_with_550_fails_once_and_the_constituent_is_told(
    chaos_campaign, email_officials, start_worker, make_sink
):
    began = time.monotonic()
    unknown = email_officials[1]
    sink = make_sink()
    sink.rcpt_reply_for = lambda address: (
        "550 5.1.1 no such user" if address == unknown.email else None
    )
    worker = start_worker(email_url=sink.url)
    actions = submit_actions(chaos_campaign, email_officials, 3)
    failing = Delivery.objects.filter(official=unknown)

    def settled():
        return (
            failing.filter(status=Delivery.Status.FAILED).count() == len(actions)
            and failing.filter(constituent_notified_at__isnull=False).count() == len(actions)
            and Delivery.objects.exclude(official=unknown).filter(status="sent").count()
            == 2 * len(actions)
        )

    wait_until(settled, timeout=30, interval=0.25, message="deliveries sent or failed, notices")
    # Time for a wrong retry or a second notice to happen: a sweep that started a sweep interval
    # more than DELIVERY_REQUEUE_AFTER_SECONDS after settlement has run (it would have handed
    # either over), then the worker has finished all it was handed before a sweep of our own.
    settled_at = worker.log_offset()
    covered = sum(
        float(CHAOS_TIMINGS[name])
        for name in ("DELIVERY_REQUEUE_AFTER_SECONDS", "DELIVERY_SWEEP_SECONDS")
    )
    wait_until(
        lambda: swept_after(worker, settled_at, seconds=covered),
        timeout=30,
        interval=0.25,
        message=f"a sweep started {covered}s after settlement",
    )
    worker.sweep_and_settle(timeout=30)
    assert worker.process.poll() is None

    for delivery in failing.select_related("official"):
        assert delivery.status == Delivery.Status.FAILED
        assert delivery.attempts == 1
        assert "550" in delivery.last_error, delivery.last_error
        log = list(delivery.attempt_log.all())
        assert [(a.number, a.outcome) for a in log] == [(1, Attempt.Outcome.FAILED)]
        assert "550" in log[0].error
    assert len(sink.refusals()) == len(actions)  # one RCPT refused per failed delivery, no retry
    assert {r.stage for r in sink.refusals()} == {"RCPT"}

    messages = sink.messages()
    to_officials = [m for m in messages if m.rcpt_tos[0].endswith("@officials.example")]
    assert sorted(m.message["Message-ID"] for m in to_officials) == sorted(
        d.message_id for d in Delivery.objects.exclude(official=unknown)
    )
    notices = [m for m in messages if m not in to_officials]
    assert sorted(m.rcpt_tos[0] for m in notices) == sorted(a.email for a in actions)
    for notice in notices:
        subject = notice.message["Subject"]
        assert unknown.name in subject and unknown.title in subject, subject
        assert notice.message["Auto-Submitted"] == "auto-generated"
        assert MESSAGE in notice.message.get_content()
    print(f"\n{len(actions)} failed at RCPT, {len(notices)} notices; took {elapsed(began)}")


def test_a_server_that_never_answers_times_out_and_the_worker_moves_on(
    chaos_campaign, email_officials, start_worker, make_sink, silent_server
):
    began = time.monotonic()
    worker = start_worker(email_url=silent_server.url, concurrency=2)
    submit_actions(chaos_campaign, email_officials[:2], 1)  # 2 deliveries
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert len(ids) == 2

    def retries_recorded(at_least):
        def check():
            retries = Attempt.objects.filter(outcome=Attempt.Outcome.RETRY)
            return min(retries.filter(delivery_id=pk).count() for pk in ids) >= at_least

        return check

    # EMAIL_TIMEOUT is 2 s: a worker stuck on the silent server would never record these.
    wait_until(retries_recorded(1), timeout=10, interval=0.2, message="a retry for each")
    first_retries = elapsed(began)
    wait_until(retries_recorded(2), timeout=15, interval=0.2, message="two retries for each")
    assert silent_server.accepted >= 4
    for attempt in Attempt.objects.filter(outcome=Attempt.Outcome.RETRY):
        assert re.search(r"time(d)? ?out", attempt.error, re.IGNORECASE), attempt.error
        assert (attempt.finished_at - attempt.started_at).total_seconds() < 10
    for delivery in Delivery.objects.all():
        assert re.search(r"time(d)? ?out", delivery.last_error, re.IGNORECASE) or (
            delivery.status == Delivery.Status.SENDING
        ), (delivery.status, delivery.last_error)

    # The silent server goes; a worker on a healthy server delivers both, once each.
    worker.stop()
    silent_server.stop()
    sink = make_sink()
    start_worker(email_url=sink.url)
    wait_all("sent", expected=2, timeout=30)
    counts = sink.message_id_counts()
    assert counts == {d.message_id: 1 for d in Delivery.objects.all()}
    print(
        f"\nretries recorded after {first_retries}; "
        f"attempts {sorted(Delivery.objects.values_list('attempts', flat=True))}; "
        f"took {elapsed(began)}"
    )
