"""kill -9 in the middle of delivering: pool processes, then the whole worker. A new worker (its
embedded beat runs the sweep) must finish the job: nothing lost, and a message sent twice only
when a kill fell between the send and the record of it."""

import os
import signal
import time

import pytest
from django.db import connection

from alerts.delivery import engine as delivery_module
from alerts.delivery.ledger import OrmLedger
from alerts.models import Delivery
from tests.factories import DeliveryFactory
from tests.support.forms import submit_actions
from tests.support.processes import wait_until

from .conftest import attempts_by_delivery, elapsed, pool_process_pids, status_counts, wait_all

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ACTIONS = 70  # x 3 officials = 210 deliveries in flight
POOL_KILLS = 3
KILL_EVERY = 25  # messages received at the sink between one kill and the next, and the crash


def test_killed_worker_processes_lose_nothing_and_duplicate_only_cut_off_sends(
    chaos_campaign, email_officials, start_worker, make_sink
):
    began = time.monotonic()
    # Slow to say "250 OK" (the message is kept at once), so the kills below often land between
    # a send and its record: the case that may duplicate.
    sink = make_sink(ack_delay=0.1)
    worker = start_worker(email_url=sink.url, concurrency=4)

    submit_actions(chaos_campaign, email_officials, ACTIONS)
    expected = ACTIONS * len(email_officials)
    assert Delivery.objects.count() == expected >= 200

    sink.wait_for(10, timeout=30)
    beat = set(worker.pool_pids()) - set(pool_process_pids(worker))
    assert len(beat) == 1, f"expected one embedded beat process, found {beat}"
    killed = []
    for _ in range(POOL_KILLS):
        pids = pool_process_pids(worker)
        assert pids, f"no pool processes found (children: {worker.pool_pids()})"
        victim = pids[len(killed) % len(pids)]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        # Paced by the work, not the clock: the pool goes on delivering after each kill, and
        # the kills and the crash fall at different points of the backlog, well before its end.
        goal = min(len(sink.messages()) + KILL_EVERY, expected)
        wait_until(
            lambda goal=goal: len(sink.messages()) >= goal,
            timeout=30,
            message=f"{goal} messages at the sink after killing pool process {victim}",
        )
    for pid in beat:
        os.kill(pid, 0)  # the sweep's process was spared (raises if it is gone)
    at_crash = status_counts()
    received_at_crash = len(sink.messages())
    worker.kill()
    print(
        f"\nkilled pool processes {killed}, then the worker, at {elapsed(began)}: "
        f"{dict(at_crash)}, {received_at_crash} messages at the sink"
    )
    assert at_crash["sent"] < expected, "everything was sent before the crash: nothing tested"

    start_worker(email_url=sink.url, concurrency=4)
    wait_all("sent", expected=expected, timeout=75)

    deliveries = {d.message_id: d for d in Delivery.objects.all()}
    assert len(deliveries) == expected  # 0 lost
    counts = sink.message_id_counts()
    assert set(deliveries) - set(counts) == set(), "deliveries marked sent but never received"
    assert set(counts) - set(deliveries) == set(), "messages nobody sent"

    # A message received twice is one whose worker died after sending it and before recording
    # that: an earlier attempt of the delivery was cut off (no outcome).
    attempts = attempts_by_delivery()
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    for mid, n in duplicates.items():
        outcomes = [a.outcome for a in attempts[deliveries[mid].pk]]
        assert len(outcomes) >= 2 and "" in outcomes[:-1], (mid, n, outcomes)
    cut_off = sum(1 for log in attempts.values() if any(a.outcome == "" for a in log))
    # The record agrees with itself: every delivery has exactly one attempt recorded as sent,
    # its last, whatever the kills cut off before it.
    for delivery_id, log in attempts.items():
        outcomes = [a.outcome for a in log]
        assert outcomes.count("sent") == 1 and outcomes[-1] == "sent", (delivery_id, outcomes)
    print(
        f"{expected} deliveries all sent; {len(duplicates)} received twice (of {cut_off} with "
        f"a cut-off attempt); took {elapsed(began)}"
    )


class Killed(BaseException):
    """The worker process dying at this point (not an error anybody handles)."""


def test_a_kill_right_after_marking_sent_leaves_delivery_and_attempt_agreeing(monkeypatch):
    """The ORM ledger records a send in two statements, in one transaction; the PostgreSQL one
    in one statement, which cannot be cut in two. Death strikes between the two."""
    delivery = DeliveryFactory()  # queued, email, never handed to a broker
    monkeypatch.setattr(delivery_module, "ledger", OrmLedger)
    marked = []

    def die_between_the_two(execute, sql, params, many, context):
        if sql.startswith('UPDATE "alerts_attempt"') and marked:
            assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT
            raise Killed
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "alerts_delivery"') and "sent_at" in sql:
            marked.append(sql)
        return result

    with connection.execute_wrapper(die_between_the_two), pytest.raises(Killed):
        delivery_module.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    attempt = delivery.attempt_log.get()
    # Whatever the moment of death, the record agrees with itself: either both say sent, or
    # neither does (and the sweep sends it again, as for any cut-off attempt).
    assert (delivery.status, attempt.outcome) == (Delivery.Status.SENDING, "")
