"""A throwaway PostgreSQL cluster on a free loopback port, for a test that crashes its database:
initdb into a temporary directory, start, `crash()` (SIGKILL to every server process, as a
real crash: no shutdown checkpoint, recovery on the next start), start again, `remove()`.
The machine's own PostgreSQL is never touched."""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from .processes import OUTPUT_DIR, free_port


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(found[-1]).parent


class PostgresServer:
    def __init__(self):
        self.port = free_port()
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="action-alerts-pg-"))
        self.data = self.root / "data"
        self.process: subprocess.Popen | None = None
        OUTPUT_DIR.mkdir(exist_ok=True)
        self.log_path = OUTPUT_DIR / f"postgres-{self.port}.log"
        # The server refuses to run as root: as root, run it as the postgres user.
        self._user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
        if self._user:
            shutil.chown(self.root, "postgres", "postgres")

    def url(self, database="postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self):
        command = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres"]
        command += ["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"]
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=60,
            **self._user,
        )
        return self

    def start(self, *, timeout: float = 30.0):
        command = [str(self.bindir / "postgres"), "-D", str(self.data)]
        command += ["-p", str(self.port), "-c", "listen_addresses=127.0.0.1"]
        command += ["-c", f"unix_socket_directories={self.root}"]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._user
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # crash recovery happens here after a crash()
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return self
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise TimeoutError(f"postgres did not accept connections within {timeout}s")

    def create_database(self, name: str):
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self

    def crash(self):
        """SIGKILL to the postmaster and every backend at once, as the kernel's OOM killer
        would: no shutdown checkpoint, and crash recovery on the next start."""
        os.killpg(self.process.pid, signal.SIGKILL)  # its own process group: nobody else's
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the backends are gone too
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise TimeoutError("postgres backends outlived SIGKILL")

    def remove(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
