"""A statement sent now and answered later, on a PostgreSQL connection of its own: the send loop
has one delivery's record committed while it talks to the receiver about the next.

Waiting for PostgreSQL (a round trip, a disk flush, a turn on a shared CPU) was a third of a
worker's time (bench/delivery.py). A DB-API cursor sends and waits in one call; libpq can send,
return, and read the answer later. This uses psycopg's documented libpq layer (`psycopg.pq`) on
a second connection per process, opened with the same settings as Django's, in autocommit: each
statement is its own transaction. One statement at a time is on its way.

Where that cannot be right, the statement runs at once through Django's cursor: inside a
transaction (a test's, or a caller's atomic(), which the statement must join) and on other
databases. Errors come as django.db errors either way. A wait cut off midway (the soft time
limit, Ctrl-C) closes the second connection, which cannot be trusted with half an answer; a
statement PostgreSQL received whole, it still carries out and commits.
"""

import contextlib
import os
import re
import selectors
import time

from django.conf import settings
from django.db import connection, transaction
from django.db import utils as django_errors
from psycopg import conninfo, errors, pq

_PARAMETER = re.compile(r"%\((\w+)\)s")
_AS_TEXT = {
    "uuid": str,
    "timestamptz": lambda value: value.isoformat(),
    "smallint": str,
    "bigint": str,
    "text": str,
}
_ANSWERED = {pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK}
_WAKE_EVERY = 0.1  # seconds: so that signal handlers (the soft time limit) get to run
# Django's and psycopg's own keys in OPTIONS, not libpq's.
_DJANGO_OPTIONS = {
    "isolation_level",
    "server_side_binding",
    "pool",
    "assume_role",
    "prepare_threshold",
}


class Statement:
    """SQL with %(name)s parameters, the type of each given once."""

    def __init__(self, sql: str, *, types: dict[str, str]):
        self.sql = sql
        self.parameters = list(dict.fromkeys(_PARAMETER.findall(sql)))
        number = {parameter: n for n, parameter in enumerate(self.parameters, start=1)}
        self._numbered = _PARAMETER.sub(lambda m: f"${number[m[1]]}::{types[m[1]]}", sql).encode()
        self._as_text = [_AS_TEXT[types[parameter]] for parameter in self.parameters]

    def start(self, params: dict) -> "Answer":
        """Send the statement and return without waiting, when it can go ahead; else run it
        now. A database error in sending it is kept for `result()`."""
        if connection.vendor != "postgresql" or not transaction.get_autocommit():
            return _run_here(self.sql, params)
        values = [
            None if params[name] is None else as_text(params[name]).encode()
            for name, as_text in zip(self.parameters, self._as_text, strict=True)
        ]
        try:
            return _Connection.current().send(self._numbered, values)
        except django_errors.Error as exc:
            return Answer(error=exc)


class Answer:
    """The rows of a statement, its values as text, waited for once."""

    def __init__(self, *, rows=None, error=None, waiting=None):
        self._rows = rows
        self._error = error
        self._waiting = waiting

    def result(self) -> list[tuple]:
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            try:
                self._rows = waiting.receive()
            except django_errors.Error as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._rows


def close() -> None:
    """Close this process's second connection (a worker's shutdown, the end of a test run)."""
    _Connection.current().close()


def _run_here(sql, params) -> Answer:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
    except django_errors.Error as exc:
        return Answer(error=exc)
    return Answer(rows=[tuple(map(_as_text, row)) for row in rows])


def _as_text(value):
    """As PostgreSQL writes ids, numbers and booleans, so both ways answer alike."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


class _Connection:
    _per_process: dict[int, "_Connection"] = {}

    @classmethod
    def current(cls) -> "_Connection":
        # A forked child (a prefork pool process) must not share its parent's socket.
        return cls._per_process.setdefault(os.getpid(), cls())

    def __init__(self):
        self._pgconn = None
        self._in_flight: Answer | None = None
        self._prepared: dict[bytes, bytes] = {}  # SQL → its name on this connection

    def send(self, sql: bytes, values: list) -> Answer:
        if self._in_flight is not None:  # its own asker hears of its error
            _settle(self._in_flight)
        pgconn = self._connected()
        name = self._prepared_name(sql) if _prepares() else None
        with self._guarded():
            if name is None:
                pgconn.send_query_params(sql, values)
            else:
                pgconn.send_query_prepared(name, values)
            self._flush()
        self._in_flight = Answer(waiting=self)
        return self._in_flight

    def _prepared_name(self, sql: bytes) -> bytes:
        """The statement's name on this connection, prepared on its first use there: parsed and
        planned once per connection, not once per delivery (planning the ledger's statements
        cost PostgreSQL more than running them, bench/README.md)."""
        name = self._prepared.get(sql)
        if name is None:
            name = f"ledger_{len(self._prepared)}".encode()
            with self._guarded():
                self._pgconn.send_prepare(name, sql)
                self._flush()
            self.receive()  # a statement PostgreSQL refuses raises its error here
            self._prepared[sql] = name
        return name

    def receive(self) -> list[tuple]:
        self._in_flight = None
        pgconn = self._pgconn
        if pgconn is None:
            raise django_errors.OperationalError("the connection closed before the answer came")
        with self._guarded():
            pgconn.consume_input()
            while pgconn.is_busy():
                self._wait(selectors.EVENT_READ)
                pgconn.consume_input()
            results = []
            while (result := pgconn.get_result()) is not None:
                results.append(result)
        rows = []
        for result in results:
            _raise_for(result)
            rows += [
                tuple(
                    None if (value := result.get_value(row, column)) is None else value.decode()
                    for column in range(result.nfields)
                )
                for row in range(result.ntuples)
            ]
        return rows

    def close(self) -> None:
        if self._pgconn is not None:
            self._pgconn.finish()
            self._pgconn = None
        self._in_flight = None
        self._prepared = {}

    def _connected(self):
        if self._pgconn is not None and self._pgconn.status == pq.ConnStatus.OK:
            return self._pgconn
        self.close()
        pgconn = pq.PGconn.connect(_conninfo().encode())
        if pgconn.status != pq.ConnStatus.OK:
            message = pgconn.error_message.decode(errors="replace")
            pgconn.finish()
            raise django_errors.OperationalError(message)
        pgconn.nonblocking = 1
        self._pgconn = pgconn
        return pgconn

    def _guarded(self) -> "_Guard":
        return _Guard(self)

    def _flush(self):
        """Wait until what was sent has left libpq's buffer (the connection is nonblocking)."""
        while self._pgconn.flush():
            self._wait(selectors.EVENT_WRITE)

    def _wait(self, event):
        with selectors.DefaultSelector() as selector:
            selector.register(self._pgconn.socket, event)
            while not selector.select(timeout=_WAKE_EVERY):
                time.sleep(0)  # signal handlers run between waits


class _Guard:
    """libpq's errors as django.db errors; cut off midway, the connection is closed."""

    def __init__(self, owner):
        self._owner = owner

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if exc is None:
            return False
        if isinstance(exc, errors.Error):
            self._owner.close()
            raise _as_django(exc) from exc
        if isinstance(exc, django_errors.Error):
            return False
        self._owner.close()
        if isinstance(exc, OSError):
            raise django_errors.OperationalError(str(exc)) from exc
        return False


def _settle(answer):
    with contextlib.suppress(django_errors.Error):
        answer.result()


def _raise_for(result):
    if result.status in _ANSWERED:
        return
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    message = (result.error_message or b"").decode(errors="replace").strip()
    try:
        error = errors.lookup(sqlstate.decode())(message)
    except (AttributeError, KeyError):  # no SQLSTATE (a lost connection), or a new one
        lost = sqlstate is None or sqlstate.startswith(b"08")
        error = (errors.OperationalError if lost else errors.DatabaseError)(message)
    raise _as_django(error)


def _as_django(error: Exception) -> django_errors.Error:
    """The django.db class of the same DB-API name (IntegrityError for a unique violation)."""
    for kind in type(error).__mro__:
        if kind.__module__.startswith("psycopg") and hasattr(django_errors, kind.__name__):
            django_kind = getattr(django_errors, kind.__name__)
            if isinstance(django_kind, type) and issubclass(django_kind, django_errors.Error):
                return django_kind(str(error))
    return django_errors.DatabaseError(str(error))


def _prepares() -> bool:
    """Whether statements are prepared, as Django's connection is told (DATABASE_PREPARE_THRESHOLD:
    off behind a pooler that cannot keep them)."""
    options = settings.DATABASES["default"].get("OPTIONS", {})
    return options.get("prepare_threshold", 0) is not None


def _conninfo() -> str:
    database = settings.DATABASES["default"]
    options = {
        key: value
        for key, value in database.get("OPTIONS", {}).items()
        if key not in _DJANGO_OPTIONS
    }
    parts = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": str(database.get("PORT")) if database.get("PORT") else None,
        "application_name": "action-alerts ledger",
        **options,
    }
    return conninfo.make_conninfo(**{key: value for key, value in parts.items() if value})
