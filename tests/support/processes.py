"""Real processes for tests: a Celery worker with its own log, and a bounded wait helper."""

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = ROOT / "test-output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout=30.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker on this process's database and Celery queue, with the test
    settings and real delivery (not the sandbox). `overrides` (strings, as the environment
    holds) add to it or replace: `worker_env(EMAIL_URL=sink.url, DELIVERY_SANDBOX="true")`."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "WEB_FORM_QUEUE": settings.WEB_FORM_QUEUE,
        "DELIVERY_SANDBOX": "false",
        # The per-mailbox confirmation allowance is counted in the shared Redis under this
        # salt: the test's own, so no earlier run today has used it up.
        "IP_HASH_SALT": settings.IP_HASH_SALT,
        **overrides,
    }
    not_strings = sorted(name for name, value in env.items() if not isinstance(value, str))
    if not_strings:
        raise TypeError(f"environment values must be strings: {', '.join(not_strings)}")
    return env


# Celery's own line about a task (received, succeeded, retry, raised...), in the log format of
# the settings' LOGGING: "<asctime> <level> <logger> Task alerts.sweep[<id>] succeeded in ...".
_TASK_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) [A-Z]+ [\w.]+ "
    r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] (?P<event>\w+)",
    re.MULTILINE,
)


class TaskLine(NamedTuple):
    at: dt.datetime  # the worker's clock (local time, as logged): compare only with its own
    name: str
    id: str
    event: str  # "received", or how it ended: "succeeded", "retry", "raised", "ignored"...


class CeleryWorker:
    """`celery -A config worker` as a child process, with the environment the test gives it."""

    def __init__(
        self,
        env: dict,
        *,
        concurrency=2,
        pool="prefork",
        name=None,
        beat=False,
        loglevel="INFO",
        queues=None,
    ):
        self.env = {**os.environ, **env}
        self.queues = queues  # None: the default queue alone
        self.loglevel = loglevel
        self.concurrency = concurrency
        self.pool = pool
        self.beat = beat
        self.name = name or f"test-{uuid.uuid4().hex[:8]}"
        OUTPUT_DIR.mkdir(exist_ok=True)
        self.log_path = OUTPUT_DIR / f"worker-{self.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout=60.0):
        self._log = self.log_path.open("w")
        command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        command += [f"--loglevel={self.loglevel}"]
        command += [
            f"--pool={self.pool}",
            f"--concurrency={self.concurrency}",
            "-n",
            f"{self.name}@%h",
        ]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if self.queues:
            command += ["-Q", ",".join(self.queues)]
        if self.beat:  # the periodic sweep, embedded: one process to start and kill
            command += ["--beat", f"--schedule={OUTPUT_DIR / f'beat-{self.name}'}"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._ready, timeout=timeout, message=f"worker ready (log: {self.log_path})")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()}")
        if self.loglevel == "INFO":
            return " ready." in self.log_path.read_text()
        return self._pinged()

    def _pinged(self):
        """At quieter log levels the worker does not announce itself: ask it over the broker."""
        from config.celery_app import app

        replies = app.control.ping(destination=[f"{self.name}@{socket.gethostname()}"], timeout=0.5)
        return bool(replies)

    def stop(self, *, timeout=20.0):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()

    def log_offset(self) -> int:
        """Where the log ends now: `since` for reading only what the worker logs after it."""
        return self.log_path.stat().st_size

    def log_since(self, since: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def task_lines(self, *, since: int = 0) -> list[TaskLine]:
        """Celery's lines about tasks from byte `since` of the log on, oldest first. Only an
        INFO log has them (a task's receipt and success are logged at INFO)."""
        if self.loglevel != "INFO":
            raise ValueError(f"task lines need the INFO log, this worker logs at {self.loglevel}")
        return [
            TaskLine(dt.datetime.fromisoformat(m["at"]), m["name"], m["id"], m["event"])
            for m in _TASK_LINE.finditer(self.log_since(since))
        ]

    def tasks_in_hand(self) -> list[TaskLine]:
        """The receipt of every task the worker has taken in and not finished: running, waiting
        for a pool process, or held until its countdown is due (a retry)."""
        last: dict[str, TaskLine] = {}
        for line in self.task_lines():
            last[line.id] = line  # a retry is received again under the same id
        return [line for line in last.values() if line.event == "received"]

    def sweep_and_settle(self, *, timeout: float = 30.0) -> None:
        """Hand the worker a sweep (`alerts.sweep`) through its queue; wait until it has
        succeeded and the worker has nothing else in hand.

        The queue is one list, taken in order: every task published before the sweep (a retry,
        a second task for the same deliveries) was received before it and has then finished.
        A positive marker that the pipeline had its chance to do anything more, where a sleep
        would only hope so. (What this sweep itself hands over is not waited for.)"""
        from config.celery_app import app

        sweep_id = app.send_task("alerts.sweep").id

        def settled():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log()[-3000:]}")
            lines = self.task_lines()
            swept = any(line.id == sweep_id and line.event == "succeeded" for line in lines)
            return swept and not self.tasks_in_hand()

        wait_until(settled, timeout=timeout, interval=0.1, message=f"sweep {sweep_id} and idle")

    def pool_pids(self) -> list[int]:
        """The prefork pool's child processes (what a kill -9 of "a worker process" hits).

        Read from every process's parent, not from /proc/<pid>/task/<pid>/children, which
        lists only the children forked by the main thread: billiard replaces a dead pool
        process from another thread, and the poison test then found no process to kill."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill(self):
        """kill -9 the whole worker (main process and pool), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
