"""A statement sent ahead on a connection of its own: it leaves at once, answers later, commits
on its own, and fails as Django's statements fail; inside a transaction it joins it instead."""

import datetime as dt
import signal
import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import DataError, OperationalError, transaction

from alerts.delivery import ahead
from alerts.delivery.ahead import Statement
from alerts.models import Attempt, Delivery
from tests.factories import DeliveryFactory
from tests.support.processes import wait_until

TYPES = {"id": "uuid", "at": "timestamptz", "small": "smallint", "big": "bigint"}
LEDGER = "action-alerts ledger"  # the second connection's application_name


@pytest.fixture
def observer():
    """A third connection, autocommit, to watch the other two from PostgreSQL's side."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        yield other


def _ledger_pids(observer):
    rows = observer.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
        [LEDGER, settings.DATABASES["default"]["NAME"]],
    ).fetchall()
    return [pid for (pid,) in rows]


@pytest.mark.django_db(transaction=True)
def test_parameters_go_typed_and_rows_come_back_as_text():
    at = dt.datetime(2023, 9, 20, 14, 30, tzinfo=dt.UTC)
    key = uuid.uuid4()
    statement = Statement(
        "SELECT %(id)s, %(at)s = %(at)s, %(small)s + 1, %(big)s, %(small)s IS NULL", types=TYPES
    )

    rows = statement.start({"id": key, "at": at, "small": 41, "big": 2**40}).result()
    assert rows == [(str(key), "t", "42", str(2**40), "f")]

    [(*_, null)] = statement.start({"id": key, "at": at, "small": None, "big": 1}).result()
    assert null == "t"


@pytest.mark.django_db(transaction=True)
def test_start_returns_before_the_database_answers_and_commits_on_its_own(observer):
    delivery = DeliveryFactory()
    statement = Statement(
        "WITH locked AS (SELECT pg_advisory_lock(%(big)s)) "
        "UPDATE alerts_delivery SET attempts = %(small)s FROM locked WHERE id = %(id)s "
        "RETURNING attempts",
        types=TYPES,
    )
    observer.execute("SELECT pg_advisory_lock(7041)")
    try:
        answer = statement.start({"big": 7041, "small": 3, "id": delivery.pk})

        def waiting_for_the_lock():
            return observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND wait_event_type = 'Lock'",
                [LEDGER],
            ).fetchone() == (1,)

        wait_until(waiting_for_the_lock, timeout=10, message="the statement waits on the lock")
        assert Delivery.objects.get(pk=delivery.pk).attempts == 0  # this connection is free
    finally:
        observer.execute("SELECT pg_advisory_unlock(7041)")

    assert answer.result() == [("3",)]
    assert answer.result() == [("3",)]  # kept, not read twice
    assert Delivery.objects.get(pk=delivery.pk).attempts == 3  # committed: no transaction open
    ahead.close()


@pytest.mark.django_db(transaction=True)
def test_a_second_statement_waits_for_the_first_answer():
    first = Statement("SELECT %(small)s", types=TYPES).start({"small": 1})
    second = Statement("SELECT %(small)s", types=TYPES).start({"small": 2})

    assert (first.result(), second.result()) == ([("1",)], [("2",)])


@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_raises_djangos_error_and_the_connection_goes_on():
    statement = Statement("SELECT 1 / %(small)s", types=TYPES)

    answer = statement.start({"small": 0})
    with pytest.raises(DataError, match="division by zero"):
        answer.result()
    with pytest.raises(DataError):  # whoever asks again hears the same
        answer.result()

    assert statement.start({"small": 2}).result() == [("0",)]


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_fails_that_statement_and_the_next_gets_a_fresh_one(observer):
    statement = Statement("SELECT %(small)s", types=TYPES)
    assert statement.start({"small": 1}).result() == [("1",)]
    [pid] = _ledger_pids(observer)
    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until(lambda: _ledger_pids(observer) == [], timeout=10, message="the backend gone")

    with pytest.raises(OperationalError):
        statement.start({"small": 2}).result()

    assert statement.start({"small": 3}).result() == [("3",)]
    assert len(_ledger_pids(observer)) == 1


class Interrupted(BaseException):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_wait_cut_off_midway_closes_the_connection_and_postgresql_still_commits(observer):
    delivery = DeliveryFactory()
    slow_insert = Statement(
        "WITH slept AS (SELECT pg_sleep(0.5)) "
        "INSERT INTO alerts_attempt (delivery_id, number, channel, started_at, outcome, error, "
        "final_url, screenshot) SELECT %(id)s, 1, 'email', now(), '', '', '', '' FROM slept "
        "RETURNING id",
        types=TYPES,
    )

    def interrupt(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        answer = slow_insert.start({"id": delivery.pk})
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(Interrupted):
            answer.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    wait_until(
        lambda: Attempt.objects.filter(delivery=delivery).exists(),
        timeout=10,
        message="PostgreSQL finished the statement it had received whole",
    )
    # Half an answer is not to be trusted: we hung up, and the backend ends once it finds so.
    wait_until(lambda: _ledger_pids(observer) == [], timeout=10, message="the connection closed")
    assert Statement("SELECT %(small)s", types=TYPES).start({"small": 4}).result() == [("4",)]


@pytest.mark.django_db
def test_inside_atomic_the_statement_joins_the_transaction():
    delivery = DeliveryFactory()
    statement = Statement(
        "UPDATE alerts_delivery SET attempts = %(small)s WHERE id = %(id)s RETURNING attempts",
        types=TYPES,
    )

    with transaction.atomic():
        assert statement.start({"small": 5, "id": delivery.pk}).result() == [("5",)]
        assert Delivery.objects.get(pk=delivery.pk).attempts == 5  # the same transaction
        transaction.set_rollback(True)

    assert Delivery.objects.get(pk=delivery.pk).attempts == 0


PREPARED = Statement("SELECT statement FROM pg_prepared_statements", types={})


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection_and_again_on_a_new_one():
    """Parsed and planned once, not once per delivery; a fresh connection prepares afresh."""
    plus_one = Statement("SELECT %(small)s + 1", types=TYPES)
    ahead.close()
    for n in range(3):
        assert plus_one.start({"small": n}).result() == [(str(n + 1),)]
    prepared = [sql for (sql,) in PREPARED.start({}).result()]
    assert prepared.count("SELECT $1::smallint + 1") == 1, prepared

    ahead.close()
    assert plus_one.start({"small": 5}).result() == [("6",)]
    assert "SELECT $1::smallint + 1" in [sql for (sql,) in PREPARED.start({}).result()]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_prepared_when_the_database_settings_say_so(monkeypatch):
    """DATABASE_PREPARE_THRESHOLD=off (a pooler that cannot keep prepared statements)."""
    options = {**settings.DATABASES["default"].get("OPTIONS", {}), "prepare_threshold": None}
    monkeypatch.setitem(settings.DATABASES["default"], "OPTIONS", options)
    ahead.close()
    try:
        assert Statement("SELECT %(small)s + 1", types=TYPES).start({"small": 1}).result() == [
            ("2",)
        ]
        assert PREPARED.start({}).result() == []
    finally:
        ahead.close()
