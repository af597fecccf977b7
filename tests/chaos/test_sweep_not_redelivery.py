"""With the production visibility timeout (an hour), what a crashed worker held is recovered by
the sweep, within a lease and a sweep of the crash, and not by Redis handing its messages out
again: those messages are still in Redis's unacknowledged set, untouched, when every delivery
has been sent, each once."""

import ast
import re
import time

import pytest

from alerts.models import Delivery
from tests.support.forms import submit_actions

from .conftest import CHAOS_TIMINGS, elapsed, status_counts, wait_all

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ACTIONS = 30  # x 3 officials = 90 deliveries
PRODUCTION_VISIBILITY_TIMEOUT = 3600  # config/settings/base.py's default
UNACKED = "unacked"  # kombu's hash of messages handed out and not acknowledged

SWEEP_RESULT = re.compile(r"Task alerts\.sweep\[[0-9a-f-]+\] succeeded in [\d.]+s: (\{.*\})")


def test_a_crashed_workers_deliveries_come_back_by_the_sweep_long_before_redis_would(
    chaos_campaign, email_officials, chaos_broker, start_worker, make_sink
):
    from config.settings import base

    assert base.CELERY_VISIBILITY_TIMEOUT == PRODUCTION_VISIBILITY_TIMEOUT
    began = time.monotonic()
    sink = make_sink(delay=0.05)
    production = {"CELERY_VISIBILITY_TIMEOUT": str(PRODUCTION_VISIBILITY_TIMEOUT)}
    worker = start_worker(email_url=sink.url, concurrency=2, **production)
    submit_actions(chaos_campaign, email_officials, ACTIONS)
    expected = ACTIONS * len(email_officials)

    sink.wait_for(15, timeout=30)
    worker.kill()
    crashed = time.monotonic()
    at_crash = status_counts()
    held = chaos_broker.client().hlen(UNACKED)
    print(f"\nkill -9 at {dict(at_crash)}; {held} messages unacknowledged in Redis")
    assert at_crash[Delivery.Status.SENDING] > 0, "nothing in flight at the crash: nothing shown"
    assert held > 0

    second = start_worker(email_url=sink.url, concurrency=2, **production)
    # A lease, then a sweep interval, then the sends: seconds. Redis would wait an hour.
    bound = float(CHAOS_TIMINGS["DELIVERY_LEASE_SECONDS"]) + 20
    wait_all("sent", expected=expected, timeout=bound, worker=second)
    recovered_in = time.monotonic() - crashed
    assert recovered_in < bound < PRODUCTION_VISIBILITY_TIMEOUT

    # Not one of the crashed worker's messages was handed out again: all still unacknowledged.
    assert chaos_broker.client().hlen(UNACKED) == held
    # The sweep did it: it found the deliveries left `sending` and queued them again.
    sweeps = [ast.literal_eval(found) for found in SWEEP_RESULT.findall(second.log())]
    assert sum(sweep["reclaimed"] for sweep in sweeps) == at_crash[Delivery.Status.SENDING]
    assert sum(sweep["requeued"] for sweep in sweeps) > 0

    counts = sink.message_id_counts()
    assert set(counts) == {d.message_id for d in Delivery.objects.all()}  # 0 lost
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    # Only a send cut between the message and its record may come twice (test_worker_killed).
    assert len(duplicates) <= at_crash[Delivery.Status.SENDING]
    print(
        f"all {expected} sent {recovered_in:.1f}s after the crash (visibility timeout "
        f"{PRODUCTION_VISIBILITY_TIMEOUT}s); {len(sweeps)} sweeps; {len(duplicates)} received "
        f"twice; took {elapsed(began)}"
    )
