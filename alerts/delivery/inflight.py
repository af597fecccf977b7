"""A PostgreSQL statement sent now and answered later, on Django's own connection.

The send loop has the database commit one delivery's record while it talks SMTP for the next:
waiting for PostgreSQL (a round trip, a disk flush, a turn on a shared CPU) was a third of a
worker's time (bench/delivery.py). Django's cursor sends and waits in one call; libpq can send,
return, and read the answer later. This uses psycopg's libpq layer (`psycopg.pq`, documented)
and the generators psycopg drives it with itself (`psycopg.generators`, which is why psycopg
is pinned).

Until the answer is read the connection is busy. A query through Django's cursor meanwhile (a
channel reading something the batch did not load, say), or another Statement, first waits for
the answer, which is kept for `InFlight.result()`. Nothing else waits: atomic(), a commit or a
rollback must not begin before the answer is in, which is the caller's to see to.

What Django gives its own statements, these keep: errors come as django.db errors (and mark
the connection for Django to check before reusing it), the statement is in
`connection.queries` when queries are logged, and inside atomic() it joins the transaction.
A send or a wait cut off midway (the soft time limit, Ctrl-C) closes the connection, which
cannot be trusted with half a statement or half an answer. A statement PostgreSQL received
whole, it still carries out and commits: nothing cancels it (psycopg's own wait would cancel
it on Ctrl-C, hence `psycopg.waiting` here).
"""

import contextlib
import re
import time

from django.db import Error, connection
from psycopg import errors, generators, pq, waiting

_AS_TEXT = {
    "uuid": str,
    "timestamptz": lambda value: value.isoformat(),
    "smallint": str,
    "bigint": str,
}
_PARAMETER = re.compile(r"%\((\w+)\)s")
_IDLE = pq.TransactionStatus.IDLE
_ANSWERED = {pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK}
_WAKE_EVERY = 0.1  # seconds: as psycopg's own wait, so that signal handlers get to run


class Statement:
    """SQL with %(name)s parameters, the type of each given once."""

    def __init__(self, sql: str, *, types: dict[str, str]):
        self.sql = sql
        self.parameters = list(dict.fromkeys(_PARAMETER.findall(sql)))
        number = {parameter: n for n, parameter in enumerate(self.parameters, start=1)}
        self._numbered = _PARAMETER.sub(lambda m: f"${number[m[1]]}::{types[m[1]]}", sql).encode()
        self._as_text = [_AS_TEXT[types[parameter]] for parameter in self.parameters]

    def start(self, params: dict) -> "InFlight":
        """Send the statement with these parameters, and return without waiting. A database
        error in sending it is kept for `result()`, as one in answering it would be."""
        values = [
            None if params[parameter] is None else as_text(params[parameter]).encode()
            for parameter, as_text in zip(self.parameters, self._as_text, strict=True)
        ]
        _answer_the_one_in_flight()
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        raw = connection.connection
        try:
            with _as_django_does():
                if not connection.get_autocommit() and raw.pgconn.transaction_status == _IDLE:
                    # psycopg opens atomic()'s transaction lazily, with its own next statement;
                    # this one goes past psycopg, so it opens the transaction, as psycopg would.
                    raw.pgconn.send_query(_begin(raw))
                    _checked(_wait(raw, generators.execute(raw.pgconn)))
                raw.pgconn.send_query_params(self._numbered, values)
                _wait(raw, generators.send(raw.pgconn))
        except Error as exc:
            return InFlight(self, raw, values, error=exc)
        return InFlight(self, raw, values)


class InFlight:
    """A statement on its way. `result()` waits for its rows (as text), once."""

    def __init__(self, statement: Statement, raw, values: list, *, error: Error | None = None):
        self._statement = statement
        self._raw = raw
        self._values = values
        self._rows = None
        self._error = error
        if error is None:  # on its way: the connection is busy until it is answered
            connection.execute_wrappers.append(self._answer_first)

    def result(self) -> list[tuple[str | None, ...]]:
        if self._error is not None:
            raise self._error
        if self._rows is None:
            # Django's execute_wrapper() pops the last hook on its way out: if this one was
            # started inside such a block, that may have been this hook already.
            with contextlib.suppress(ValueError):
                connection.execute_wrappers.remove(self._answer_first)
            waited = time.monotonic()
            try:
                self._rows = self._fetch()
            except BaseException as exc:  # kept: whoever asks again hears the same
                self._error = exc
                raise
            finally:
                self._log(time.monotonic() - waited)
        return self._rows

    def _answer_first(self, execute, sql, params, many, context):
        """Django's query hook while this statement is on its way. Its error is for its own
        asker, not for the query that happened to come next."""
        with contextlib.suppress(Error):
            self.result()
        return execute(sql, params, many, context)

    def _fetch(self):
        with _as_django_does():
            [result] = _checked(_wait(self._raw, generators.fetch_many(self._raw.pgconn)))
        encoding = self._raw.info.encoding
        return [
            tuple(
                None if (value := result.get_value(row, column)) is None else value.decode(encoding)
                for column in range(result.nfields)
            )
            for row in range(result.ntuples)
        ]

    def _log(self, waited: float):
        """As Django logs its own statements; the time is the wait for the answer, not the
        time the statement was on its way."""
        if connection.queries_logged:
            values = [None if value is None else value.decode() for value in self._values]
            connection.queries_log.append(
                {
                    "sql": f"{self._statement.sql} -- sent ahead, with {values}",
                    "time": f"{waited:.3f}",
                }
            )


def _answer_the_one_in_flight():
    for hook in list(connection.execute_wrappers):
        if isinstance(getattr(hook, "__self__", None), InFlight):
            with contextlib.suppress(Error):  # its own asker hears of it
                hook.__self__.result()


@contextlib.contextmanager
def _as_django_does():
    """Database errors as Django's own (which also marks the connection for checking); cut off
    midway (the soft time limit, Ctrl-C), the connection is closed: see the module's doc."""
    try:
        with connection.wrap_database_errors:
            yield
    except Error:
        raise
    except BaseException:
        connection.close()
        raise


def _wait(raw, generator):
    return waiting.wait(generator, raw.pgconn.socket, interval=_WAKE_EVERY)


def _begin(raw) -> bytes:
    """BEGIN with the transaction characteristics set on the connection (Django's OPTIONS)."""
    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        parts.append(f"ISOLATION LEVEL {raw.isolation_level.name.replace('_', ' ')}")
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts).encode()


def _checked(results):
    for result in results:
        if result.status not in _ANSWERED:
            sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
            try:
                error = errors.lookup(sqlstate.decode())
            except (AttributeError, KeyError):  # no SQLSTATE (a lost connection), or a new one
                lost = sqlstate is None or sqlstate.startswith(b"08")
                error = errors.OperationalError if lost else errors.DatabaseError
            message = (result.error_message or b"").decode(errors="replace").strip()
            raise error(message or pq.ExecStatus(result.status).name)
    return results
