"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and bench."""

import email
import email.policy
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        reply = self.sink.reply_for(envelope)
        if reply:
            return reply
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.content)
            )
        return "250 OK"


class SmtpSink:
    """Start with `start()`; read `received`; `clear()` between uses; `stop()` at the end."""

    def __init__(self, host="127.0.0.1", port=0):
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self._controller = Controller(_Handler(self), hostname=host, port=port or _free_port())

    @property
    def host(self):
        return self._controller.hostname

    @property
    def port(self):
        return self._controller.port

    @property
    def url(self):
        return f"smtp://{self.host}:{self.port}"

    def reply_for(self, envelope) -> str | None:
        """Override (or replace) to answer with an SMTP error instead of accepting."""
        return None

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def clear(self):
        with self.lock:
            self.received.clear()

    def messages(self):
        with self.lock:
            return list(self.received)

    def wait_for(self, count, *, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} messages, got {len(self.messages())}")


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
