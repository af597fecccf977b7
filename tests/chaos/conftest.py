"""Chaos tests: worker processes killed, a broker that goes away, SMTP servers that misbehave.

Each test gets a throwaway `redis-server` of its own on a free loopback port (a broker it may stop,
and a place where the short visibility timeout below cannot hand anybody else's messages out
again), an SMTP server of its own, and workers with short timings so that leases expire, sweeps
run and retries come due within seconds. The machine's Redis and PostgreSQL are never stopped.
"""

import contextlib
import datetime as dt
import socket
import threading
import time
from collections import Counter

import kombu.pools
import pytest

from alerts.models import Attempt, Delivery
from config.celery_app import app as celery_app
from tests.factories import CampaignFactory
from tests.support.fixtures import server_fixture
from tests.support.processes import CeleryWorker, wait_until, worker_env
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpSink

MAX_ATTEMPTS = 8

# Seconds, not minutes: leases expire, sweeps run and retries come due while the test watches.
CHAOS_TIMINGS = {
    "CELERY_TASK_TIME_LIMIT": "20",
    "DELIVERY_LEASE_SECONDS": "8",
    "DELIVERY_SWEEP_SECONDS": "1",
    "DELIVERY_REQUEUE_AFTER_SECONDS": "3",
    "DELIVERY_RETRY_BASE_SECONDS": "0.5",
    "DELIVERY_RETRY_CAP_SECONDS": "2",
    "DELIVERY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "EMAIL_TIMEOUT": "2",
}


def _use_broker(url: str) -> None:
    """Point this process's Celery app at `url`: the setting, and the pools that cached the old
    connection (`app.pool`, `app.amqp.producer_pool`), which are rebuilt on next use. The
    pools are kombu's, kept by connection in its registry, so that is emptied too: otherwise
    going back to a broker used before would get that broker's closed pool back."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url


chaos_redis = server_fixture(
    RedisServer,
    "A `redis-server` of this test's own; `.stop()` and `.start()` it at will (same port).",
)


@pytest.fixture
def chaos_broker(chaos_redis):
    """The throwaway Redis as the broker of this test process too (what `.delay()` uses)."""
    previous = celery_app.conf.broker_url
    _use_broker(chaos_redis.url)
    yield chaos_redis
    _use_broker(previous)


@pytest.fixture
def start_worker(transactional_db, chaos_broker):
    """`start_worker(email_url=..., concurrency=...)`: a real `celery worker --beat` (the
    periodic sweep embedded) on the test database and the throwaway Redis, with CHAOS_TIMINGS.
    Every worker started is killed when the test ends, before the database is emptied."""
    started: list[CeleryWorker] = []

    def start(*, email_url: str, concurrency: int = 2, **extra_env) -> CeleryWorker:
        env = worker_env(
            **{
                "REDIS_URL": chaos_broker.url,
                "EMAIL_URL": email_url,
                **CHAOS_TIMINGS,
                **{name: str(value) for name, value in extra_env.items()},
            }
        )
        worker = CeleryWorker(env, concurrency=concurrency, beat=True)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()
        worker.stop()  # the worker is gone already; this closes its log


@pytest.fixture
def make_sink():
    """`make_sink(cls=SmtpSink, **options)`: a started SMTP sink, stopped when the test ends."""
    sinks: list[SmtpSink] = []

    def make(cls=SmtpSink, **options) -> SmtpSink:
        sink = cls(**options)
        sinks.append(sink)
        return sink.start()

    yield make
    for sink in sinks:
        sink.stop()


class SilentServer:
    """Accepts TCP connections on loopback and never says a word (no SMTP greeting), until
    `stop()`: what a hung mail server looks like to a client."""

    def __init__(self):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self):
        host, port = self._listener.getsockname()
        return f"smtp://{host}:{port}"

    @property
    def accepted(self) -> int:
        return len(self._accepted)

    def start(self):
        self._thread.start()
        return self

    def _serve(self):
        while not self._stopping.is_set():  # bounded by stop(): checked every 0.2 s
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(conn)  # held open, unanswered

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=5)
        for conn in [*self._accepted, self._listener]:
            with contextlib.suppress(OSError):
                conn.close()


silent_server = server_fixture(SilentServer)


@pytest.fixture
def chaos_campaign(email_officials):
    return CampaignFactory(targets=email_officials, double_opt_in=False, target_congress=False)


def status_counts() -> Counter:
    return Counter(Delivery.objects.values_list("status", flat=True))


def wait_all(status: str, *, expected: int, timeout: float, worker=None) -> None:
    """Until all `expected` deliveries are in `status` (bounded); say where they are if not."""

    def done():
        if worker is not None and worker.process.poll() is not None:
            raise RuntimeError(f"worker exited:\n{worker.log()[-3000:]}")
        return status_counts() == Counter({status: expected})

    try:
        wait_until(done, timeout=timeout, interval=0.25, message=f"every delivery {status}")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; statuses now: {dict(status_counts())}") from None


def pool_process_pids(worker: CeleryWorker) -> list[int]:
    """The worker's prefork pool processes, without the embedded beat process (also a child
    of the main process): the pool's own list, asked over the broker, intersected with the
    main process's children."""
    hostname = f"{worker.name}@{socket.gethostname()}"
    for _ in range(3):  # bounded: a busy worker may miss one 2-second inspect
        stats = celery_app.control.inspect(destination=[hostname], timeout=2.0).stats() or {}
        pool = set(stats.get(hostname, {}).get("pool", {}).get("processes", []))
        if pool:
            return sorted(set(worker.pool_pids()) & pool)
    return []


def swept_after(worker: CeleryWorker, since: int, *, seconds: float) -> bool:
    """Has a sweep that the worker received `seconds` or more after log offset `since`
    succeeded? The sweep hands over again, or notifies about, whatever has waited
    DELIVERY_REQUEUE_AFTER_SECONDS: one that started that long after a moment has seen all that
    was left behind at it. The moment is the first task line after `since` (never earlier), so
    every time compared is the worker's own."""
    lines = worker.task_lines(since=since)
    if not lines:
        return False
    late = lines[0].at + dt.timedelta(seconds=seconds)
    started_late = {
        line.id
        for line in lines
        if line.name == "alerts.sweep" and line.event == "received" and line.at >= late
    }
    return any(line.id in started_late and line.event == "succeeded" for line in lines)


def attempts_by_delivery() -> dict:
    rows: dict = {}
    for attempt in Attempt.objects.order_by("delivery_id", "number"):
        rows.setdefault(attempt.delivery_id, []).append(attempt)
    return rows


def elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.1f}s"
