"""A throwaway `redis-server` on a free loopback port: started, stopped and started again on the
same port by the test that owns it. Nothing is persisted, so a restart comes back empty.
`pause()` (SIGSTOP) makes it a sick Redis: the kernel still accepts connections into its
backlog, but nothing is ever answered until `resume()` (SIGCONT)."""

import signal
import subprocess
import time

import redis

from .processes import OUTPUT_DIR, free_port


class RedisServer:
    """`redis-server` as a child process. `stop()` then `start()` reuses the same port."""

    def __init__(self, *, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        OUTPUT_DIR.mkdir(exist_ok=True)
        self.log_path = OUTPUT_DIR / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, timeout: float = 10.0):
        if self.running():
            return self
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{self.log_path.read_text()}")
            try:
                if self.client().ping():
                    return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"redis-server on port {self.port} not ready after {timeout}s")

    def pause(self):
        """SIGSTOP this server: connections are accepted, no command is ever answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT this server: it answers again, what it held intact."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self, *, timeout: float = 10.0):
        """Terminate this server (never any other). Its data is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        self.process.send_signal(signal.SIGCONT)  # a paused server acts on SIGTERM only then
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def kill(self):
        """kill -9 this server, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
