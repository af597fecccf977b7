"""A fake of the Senate's CWC endpoint (SCWC) on loopback, for tests.

Every message is checked as SCWC would: the path, the API key, the content type, and the XML
against ../shared/data/cwc/cwc_schema_v2_senate.rng (lxml's RELAX NG). Then it answers:

    201  accepted (the DeliveryId is kept)
    409  this DeliveryId was accepted before (nothing kept twice)
    400  <Errors><Error>…</Error></Errors>: the grammar's complaints, or scripted reasons
    415  the Content-Type is not application/xml
    401  the API key is not the fake's
    503  scripted: the service is unavailable (nothing kept)

    fake = ScwcFake(api_key="k").start()
    fake.script(Unavailable(), Refuse("Invalid Zip"), LoseAnswer())  # the next answers, in turn
    fake.accepted       # {DeliveryId: body}, each once
    fake.invalid        # (body, errors) of every message the grammar refused
    fake.arrivals()     # when each message arrived (time.time())
"""

import collections
import threading
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from lxml import etree

from tests.support.receivers import HttpReceiver, Reply, Request

PATHS = {"/api/production-messages/", "/api/testing-messages/"}


def senate_schema_path() -> Path:
    return Path(settings.LEGISLATOR_DATA_DIR) / "cwc" / "cwc_schema_v2_senate.rng"


def errors_body(*reasons: str) -> str:
    inner = "".join(f"<Error>{escape(reason)}</Error>" for reason in reasons)
    return f'<?xml version="1.0" encoding="UTF-8"?><Errors>{inner}</Errors>'


@dataclass(frozen=True)
class Unavailable:
    """503, the message not kept."""

    status: int = 503


@dataclass(frozen=True)
class Refuse:
    """400 with these reasons, the message not kept."""

    reasons: tuple[str, ...] = ("Invalid message",)

    def __init__(self, *reasons: str):
        object.__setattr__(self, "reasons", reasons or ("Invalid message",))


@dataclass(frozen=True)
class LoseAnswer:
    """The message is kept, but the answer is a 503: the sender cannot know it arrived."""


class ScwcFake(HttpReceiver):
    def __init__(self, *, api_key: str = "test-key", schema_path: Path | None = None):
        super().__init__()
        self.api_key = api_key
        self.schema = etree.RelaxNG(etree.parse(str(schema_path or senate_schema_path())))
        self._scwc_lock = threading.Lock()
        self._script: collections.deque = collections.deque()
        self.accepted: dict[str, bytes] = {}
        self.invalid: list[tuple[bytes, str]] = []
        self.answers: list[int] = []  # the status of every answer, in order
        self._arrivals: list[float] = []  # messages that passed every check
        self.respond = self._answer

    def script(self, *outcomes) -> None:
        with self._scwc_lock:
            self._script.extend(outcomes)

    def arrivals(self) -> list[float]:
        with self._scwc_lock:
            return list(self._arrivals)

    def _answer(self, request: Request) -> Reply:
        reply = self._check(request)
        with self._scwc_lock:
            self.answers.append(reply.status)
        return reply

    def _check(self, request: Request) -> Reply:
        if request.method != "POST" or request.path not in PATHS:
            return Reply(404, errors_body(f"no such resource: {request.method} {request.path}"))
        if request.query.get("apikey") != [self.api_key]:
            return Reply(401, errors_body("Invalid API key"))
        content_type = (request.header("Content-Type") or "").split(";")[0].strip()
        if content_type != "application/xml":
            return Reply(415, errors_body(f"Unsupported media type {content_type!r}"))
        try:
            document = etree.fromstring(request.body)
        except etree.XMLSyntaxError as exc:
            return self._refused(request.body, str(exc))
        if not self.schema.validate(document):
            return self._refused(request.body, str(self.schema.error_log))
        delivery_id = document.findtext("Delivery/DeliveryId")
        with self._scwc_lock:
            self._arrivals.append(request.received_at)
            outcome = self._script.popleft() if self._script else None
            if isinstance(outcome, Unavailable):
                return Reply(outcome.status, "Service Unavailable")
            if isinstance(outcome, Refuse):
                return Reply(400, errors_body(*outcome.reasons))
            if delivery_id in self.accepted:
                return Reply(409, errors_body(f"Duplicate DeliveryId {delivery_id}"))
            self.accepted[delivery_id] = request.body
            if isinstance(outcome, LoseAnswer):
                return Reply(503, "Service Unavailable")
        return Reply(201, "")

    def _refused(self, body: bytes, errors: str) -> Reply:
        with self._scwc_lock:
            self.invalid.append((body, errors))
        return Reply(400, errors_body(*errors.splitlines()))
