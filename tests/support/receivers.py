"""Fake HTTP receivers for tests: a threaded server on loopback that records every request and
answers as it is told. It plays the CWC endpoint and the webhook receiver.

    receiver = HttpReceiver().start()
    receiver.reply_with(Reply(503), Reply(200))   # answered in turn, then the default
    receiver.respond = lambda request: Reply(...) # or decide per request
    receiver.never_answer()                       # read the request, then say nothing
    receiver.redirect_to("http://...")            # 302 with a Location
    receiver.wait_for(1, timeout=10)              # the recorded requests, once there are 1
    receiver.stop()

Answers come from, in order: the queue of `reply_with`, then `respond` when set, then
`default` (200 with an empty body unless changed).
"""

import collections
import contextlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # accept and read the request, never answer

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> "Reply":
        return cls(status, b"", {"Location": location})

    @classmethod
    def silence(cls) -> "Reply":
        return cls(hang=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, receiver, address):
        self.receiver = receiver
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pooled clients expect

    def setup(self):
        super().setup()
        self.server.receiver._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.receiver._closed(self.connection)

    def log_message(self, format, *args):  # quiet
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self):
        receiver = self.server.receiver
        parts = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
            received_at=time.time(),
        )
        reply = receiver._record_and_choose(request)
        if reply.hang:
            receiver._released.wait(timeout=120)
            self.close_connection = True
            return
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class HttpReceiver:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.default = Reply()
        self.respond: Callable[[Request], Reply] | None = None
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> "HttpReceiver":
        self._released.clear()
        self._server = _Server(self, (self.host, 0))  # the OS picks a free port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # let hanging handlers go
        if self._server is not None:
            self._server.shutdown()
            with self._lock:
                connections = list(self._connections)
            for connection in connections:  # idle keep-alive connections end too
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- what to answer ---

    def reply_with(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def always(self, reply: Reply) -> None:
        self.default = reply

    def never_answer(self) -> None:
        self.default = Reply.silence()

    def redirect_to(self, location: str, status: int = 302) -> None:
        self.default = Reply.redirect(location, status)

    # --- what was received ---

    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.requests()
            if len(received) >= count:
                return received
            time.sleep(0.02)
        raise TimeoutError(
            f"expected {count} requests at {self.url}, got {len(self.requests())} in {timeout}s"
        )

    # --- used by the handler ---

    def _record_and_choose(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.respond is not None:
            return self.respond(request)
        return self.default

    def _opened(self, connection):
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection):
        with self._lock:
            self._connections.discard(connection)
