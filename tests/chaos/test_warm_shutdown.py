"""SIGTERM to a worker in the middle of a backlog (what `docker stop`, systemd and Kubernetes
send first): Celery's warm shutdown finishes the tasks it is running and returns the messages
it holds but has not started. Nothing is cut off, lost or sent twice: every delivery is either
sent (and received once) or still queued, and a new worker sends the rest on their first
attempt."""

import os
import signal
import time

import pytest

from alerts.models import Attempt, Delivery
from tests.support.forms import submit_actions

from .conftest import elapsed, status_counts, wait_all

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ACTIONS = 40  # x 3 officials = 120 deliveries
TERM_AFTER = 15  # messages received before the SIGTERM


def test_sigterm_finishes_what_is_in_flight_and_returns_the_rest(
    chaos_campaign, email_officials, start_worker, make_sink
):
    began = time.monotonic()
    sink = make_sink(delay=0.05)  # a send takes a while: SIGTERM lands mid-send
    worker = start_worker(email_url=sink.url, concurrency=2)
    submit_actions(chaos_campaign, email_officials, ACTIONS)
    expected = ACTIONS * len(email_officials)

    sink.wait_for(TERM_AFTER, timeout=30)
    os.kill(worker.process.pid, signal.SIGTERM)  # the main process only, as a supervisor does
    termed = time.monotonic()
    exit_code = worker.process.wait(timeout=60)
    stopped_in = elapsed(termed)
    assert exit_code == 0, worker.log()[-3000:]
    assert "Warm shutdown" in worker.log()

    at_exit = status_counts()
    print(f"\nSIGTERM after {TERM_AFTER} messages: exited in {stopped_in}; {dict(at_exit)}")
    assert set(at_exit) <= {Delivery.Status.SENT, Delivery.Status.QUEUED}, at_exit  # 0 sending
    assert at_exit[Delivery.Status.QUEUED] > 0, "all sent before the worker stopped: nothing shown"
    assert not Attempt.objects.filter(outcome="").exists()  # no send was cut off
    sent = {d.message_id for d in Delivery.objects.filter(status=Delivery.Status.SENT)}
    counts = sink.message_id_counts()
    assert set(counts) == sent  # received exactly what is recorded as sent
    assert set(counts.values()) == {1}

    start_worker(email_url=sink.url, concurrency=2)
    wait_all("sent", expected=expected, timeout=60)
    counts = sink.message_id_counts()
    assert set(counts) == {d.message_id for d in Delivery.objects.all()}  # 0 lost
    assert set(counts.values()) == {1}  # 0 sent twice
    assert Delivery.objects.filter(attempts=1).count() == expected  # none needed a second try
    print(f"all {expected} sent once each; took {elapsed(began)}")
