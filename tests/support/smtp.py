"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and bench."""

import asyncio
import email
import email.policy
import functools
import logging
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool = False  # received after STARTTLS

    @functools.cached_property
    def message(self) -> email.message.EmailMessage:
        """Parsed on first use: parsing every message as it arrives would cost the sink CPU
        that the system under test needs."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.sink.on_rcpt(address, session.peer)
        reply = self.sink.rcpt_reply_for(address)
        if reply:
            self.sink._refuse("RCPT", reply, [address])
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:  # a slow server, without holding up the other connections
            await asyncio.sleep(self.sink.delay)
        reply = self.sink.reply_for(envelope)
        if reply:
            self.sink._refuse("DATA", reply, list(envelope.rcpt_tos))
            return reply
        with self.sink.lock:
            self.sink.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    tls=session.ssl is not None,
                )
            )
        if self.sink.ack_delay:  # kept, but the client hears so only later
            await asyncio.sleep(self.sink.ack_delay)
        return "250 OK"


@dataclass(frozen=True)
class Refused:
    stage: str  # "RCPT" or "DATA"
    reply: str
    rcpt_tos: list[str]


class SmtpSink:
    """Start with `start()`; read `received`; `clear()` between uses; `stop()` at the end.

    `delay` (seconds) holds every DATA that long before deciding on it, as a slow server would;
    `ack_delay` keeps the message at once and holds only the "250 OK" that long (a client that
    dies meanwhile has sent a message it never heard was taken). Override `reply_for` (DATA) or
    `rcpt_reply_for` (RCPT) to answer with an SMTP error; what was refused is in `refusals()`.
    `tls` (a `SelfSignedCertificate`) offers STARTTLS with it; a client may still send in clear,
    and each `Received` says which way it came.
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        delay: float = 0.0,
        ack_delay: float = 0.0,
        tls: "SelfSignedCertificate | None" = None,
    ):
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refused: list[Refused] = []
        self.delay = delay
        self.ack_delay = ack_delay
        self.tls = tls
        options = {"tls_context": tls.server_context()} if tls else {}
        self._controller = Controller(
            _Handler(self), hostname=host, port=port or _free_port(), **options
        )

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

    def rcpt_reply_for(self, address: str) -> str | None:
        """Override (or replace) to refuse a recipient at RCPT TO, e.g. "550 5.1.1 no such user"."""
        return None

    def on_rcpt(self, address: str, peer: tuple[str, int]) -> None:
        """Override to act on the client (at `peer`) as it names a recipient."""

    def _refuse(self, stage, reply, rcpt_tos):
        with self.lock:
            self.refused.append(Refused(stage, reply, rcpt_tos))

    def start(self):
        # aiosmtpd logs every SMTP line at INFO; at thousands of messages that is the cost.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def clear(self):
        with self.lock:
            self.received.clear()
            self.refused.clear()

    def messages(self):
        with self.lock:
            return list(self.received)

    def refusals(self) -> list[Refused]:
        with self.lock:
            return list(self.refused)

    def message_id_counts(self) -> Counter:
        """How many times each Message-ID was accepted (more than once: a duplicate)."""
        return Counter(m.message["Message-ID"] for m in self.messages())

    def wait_for(self, count, *, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} messages, got {len(self.messages())}")


class SelfSignedCertificate:
    """A certificate for 127.0.0.1 and localhost that no one trusts (openssl, in `directory`):
    `path` is what a client would have to add to its trusted roots to accept it."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / "smtp-self-signed.pem"
        self.key_path = Path(directory) / "smtp-self-signed.key"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(self.key_path), "-out", str(self.path),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )  # fmt: skip

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.path, self.key_path)
        return context


def point_email_at(settings, sink):
    """Settings for real delivery (not the sandbox) over plain SMTP to `sink`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DELIVERY_SANDBOX = False


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
