"""PostgreSQL crashes mid-delivery (SIGKILL to every server process) and comes back through
crash recovery. Nothing is lost: a delivery whose claim or record the crash undid is sent
again, with the same Message-ID, and at most two per worker process. The cluster is
the test's own, on a free port; the test process never connects to it through Django."""

import os
import subprocess
import sys
import time
import uuid
from collections import Counter

import psycopg
import pytest
from django.conf import settings

from tests.support.postgres_server import PostgresServer
from tests.support.processes import ROOT, CeleryWorker, wait_until, worker_env

from .conftest import CHAOS_TIMINGS, elapsed

pytestmark = pytest.mark.services

ACTIONS = 70  # x 3 officials = 210 deliveries, one task (a batch of 3) per action
CONCURRENCY = 2


@pytest.fixture
def crash_db():
    server = PostgresServer().initdb().start()
    server.create_database("action_alerts_crash")
    yield server
    server.remove()


def _manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout


def _query(url, sql):
    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=2) as conn:
        return conn.execute(sql).fetchall()


# How many messages a crash may make us send again: per process, the one it was sending and
# the one before, whose record was on its way meanwhile.
RESENT_AT_MOST = CONCURRENCY * 2


def test_a_database_crash_mid_delivery_loses_nothing(crash_db, chaos_broker, make_sink):
    began = time.monotonic()
    url = crash_db.url("action_alerts_crash")
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "REDIS_URL": chaos_broker.url,
    }
    _manage(env, "manage.py", "migrate", "--verbosity=0")
    expected = int(_manage(env, "-m", "tests.support.seed_queue", str(ACTIONS)))
    assert expected == ACTIONS * 3

    sink = make_sink(ack_delay=0.05)  # slow enough for the crash to land mid-run
    worker = CeleryWorker(
        worker_env(**env, EMAIL_URL=sink.url, **CHAOS_TIMINGS),
        concurrency=CONCURRENCY,
        beat=True,
    )
    worker.start()
    try:
        sink.wait_for(30, timeout=60)
        before_crash = worker.log_offset()
        crash_db.crash()
        at_crash = len(sink.messages())

        # Back up only once the worker has met the dead database: beyond the sends it cut off,
        # a sweep (one a second) has tried it and failed.
        def sweep_failed():
            return any(
                line.name == "alerts.sweep" and line.event == "raised"
                for line in worker.task_lines(since=before_crash)
            )

        wait_until(sweep_failed, timeout=30, interval=0.1, message="a sweep failing, database down")
        crash_db.start()  # crash recovery
        print(f"\ncrashed PostgreSQL with {at_crash} messages at the sink, at {elapsed(began)}")
        assert at_crash < expected, "everything was sent before the crash: nothing tested"

        def all_sent():
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{worker.log()[-3000:]}")
            try:
                return _query(url, "SELECT status, count(*) FROM alerts_delivery GROUP BY 1") == [
                    ("sent", expected)
                ]
            except psycopg.OperationalError:
                return False

        wait_until(all_sent, timeout=90, interval=0.5, message="every delivery sent")
    finally:
        worker.kill()
        worker.stop()

    ids = [row[0] for row in _query(url, "SELECT id FROM alerts_delivery")]
    message_ids = {f"<{uuid.UUID(str(pk)).hex}@{settings.MESSAGE_ID_DOMAIN}>" for pk in ids}
    counts = sink.message_id_counts()
    assert set(counts) == message_ids  # 0 lost, nothing unknown
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    assert sum(n - 1 for n in duplicates.values()) <= RESENT_AT_MOST, duplicates
    # The record agrees with itself: one attempt recorded as sent per delivery, its last.
    attempts = Counter()
    for delivery_id, outcomes in _query(
        url,
        "SELECT delivery_id, array_agg(outcome ORDER BY number) FROM alerts_attempt GROUP BY 1",
    ):
        assert outcomes.count("sent") == 1 and outcomes[-1] == "sent", (delivery_id, outcomes)
        attempts[len(outcomes)] += 1
    assert sum(attempts.values()) == expected
    print(
        f"{expected} deliveries all sent; "
        f"{len(duplicates)} received twice; attempts per "
        f"delivery {dict(attempts)}; took {elapsed(began)}"
    )
