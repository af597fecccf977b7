"""A statement sent ahead on Django's connection: it leaves at once, answers later, and is
otherwise treated like Django's own statements (errors, transactions, query logging)."""

import datetime as dt
import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import DataError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.delivery import inflight as inflight_module
from alerts.delivery.inflight import Statement
from alerts.models import Delivery
from tests.factories import DeliveryFactory
from tests.support.interruptions import CutOff, cut_off
from tests.support.processes import wait_until

TYPES = {"id": "uuid", "at": "timestamptz", "small": "smallint", "big": "bigint"}


def _other_connection():
    """Autocommit: a transaction would see pg_stat_activity as it was when it began."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )


@pytest.mark.django_db
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
def test_start_returns_before_the_database_answers():
    statement = Statement("SELECT pg_advisory_lock(%(big)s), pg_backend_pid()", types=TYPES)
    blocker = _other_connection()
    blocker.execute("SELECT pg_advisory_lock(7041)")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '20s'")  # a bound, should start() ever wait
            cursor.execute("SELECT pg_backend_pid()")
            [(ours,)] = cursor.fetchall()

        inflight = statement.start({"big": 7041})

        def waiting_for_the_lock():
            row = blocker.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [ours]
            ).fetchone()
            return row == ("Lock",)

        wait_until(waiting_for_the_lock, timeout=10, message="our statement waits on the lock")
        blocker.execute("SELECT pg_advisory_unlock(7041)")
        assert inflight.result() == [("", str(ours))]
    finally:
        blocker.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
            cursor.execute("RESET lock_timeout")


@pytest.mark.django_db
def test_a_query_made_meanwhile_waits_for_the_answer_and_both_succeed():
    delivery = DeliveryFactory()
    statement = Statement(
        "UPDATE alerts_delivery SET attempts = %(small)s WHERE id = %(id)s RETURNING attempts",
        types=TYPES,
    )

    inflight = statement.start({"small": 3, "id": delivery.pk})
    assert Delivery.objects.get(pk=delivery.pk).attempts == 3  # the update was answered first

    assert inflight.result() == [("3",)]
    assert inflight.result() == [("3",)]  # kept, not read twice
    assert not connection.execute_wrappers


@pytest.mark.django_db
def test_a_failed_statement_raises_djangos_error_and_the_connection_goes_on():
    statement = Statement("SELECT 1 / %(small)s", types=TYPES)

    with transaction.atomic():  # a savepoint: the failure rolls back to it, as Django's would
        inflight = statement.start({"small": 0})
        with pytest.raises(DataError, match="division by zero"):
            inflight.result()
        transaction.set_rollback(True)

    assert statement.start({"small": 2}).result() == [("0",)]


@pytest.mark.django_db(transaction=True)  # the connection is broken on purpose
def test_an_error_in_sending_is_kept_for_result_like_any_other():
    connection.ensure_connection()
    connection.connection.pgconn.finish()  # the server's end is gone, Django does not know yet

    inflight = Statement("SELECT %(small)s", types=TYPES).start({"small": 1})

    assert not connection.execute_wrappers  # nothing on its way: the connection is free
    with pytest.raises(OperationalError):
        inflight.result()
    connection.close()
    assert Statement("SELECT %(small)s", types=TYPES).start({"small": 2}).result() == [("2",)]


@pytest.mark.django_db(transaction=True)
def test_inside_atomic_the_statement_joins_the_transaction():
    delivery = DeliveryFactory()
    statement = Statement(
        "UPDATE alerts_delivery SET attempts = %(small)s WHERE id = %(id)s", types=TYPES
    )

    with transaction.atomic():  # nothing sent yet: psycopg has not opened the transaction
        statement.start({"small": 5, "id": delivery.pk}).result()
        transaction.set_rollback(True)
    assert Delivery.objects.get(pk=delivery.pk).attempts == 0

    statement.start({"small": 6, "id": delivery.pk}).result()  # autocommit: kept at once
    with _other_connection() as other:
        [(attempts,)] = other.execute(
            "SELECT attempts FROM alerts_delivery WHERE id = %s", [delivery.pk]
        ).fetchall()
    assert attempts == 6


@pytest.mark.django_db
def test_the_statement_is_in_the_query_log_once():
    statement = Statement("SELECT %(small)s", types=TYPES)

    with CaptureQueriesContext(connection) as queries:
        statement.start({"small": 9}).result()

    [logged] = queries.captured_queries
    assert logged["sql"].startswith("SELECT %(small)s")
    assert "['9']" in logged["sql"]


@pytest.mark.django_db(transaction=True)
def test_inside_atomic_the_transaction_begins_as_psycopg_would_begin_it():
    connection.ensure_connection()
    raw = connection.connection
    before = raw.isolation_level, raw.read_only
    raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # as OPTIONS would set them
    raw.read_only = True
    statement = Statement(
        "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')",
        types={},
    )
    try:
        with transaction.atomic():
            assert statement.start({}).result() == [("repeatable read", "on")]
    finally:
        raw.isolation_level, raw.read_only = before


@pytest.mark.django_db
def test_a_second_statement_waits_for_the_first_answer():
    first = Statement("SELECT %(small)s", types=TYPES).start({"small": 1})
    second = Statement("SELECT %(small)s + 1", types=TYPES).start({"small": 1})

    assert (second.result(), first.result()) == ([("2",)], [("1",)])


@pytest.mark.django_db(transaction=True)  # the cut-off wait closes the connection
def test_a_wait_cut_off_midway_leaves_a_fresh_connection_behind(monkeypatch):
    delivery = DeliveryFactory()
    statement = Statement(
        "UPDATE alerts_delivery SET attempts = %(small)s WHERE id = %(id)s", types=TYPES
    )
    monkeypatch.setattr(inflight_module.generators, "fetch_many", cut_off)
    inflight = statement.start({"small": 4, "id": delivery.pk})

    with pytest.raises(CutOff):
        inflight.result()
    with pytest.raises(CutOff):  # and so for whoever asks again
        inflight.result()
    monkeypatch.undo()

    # The half-read connection is gone; the statement, sent whole, is carried out all the same.
    assert connection.connection is None
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).attempts == 4,
        timeout=10,
        message="the statement sent before the cut is carried out",
    )


@pytest.mark.django_db(transaction=True)  # the cut-off send closes the connection
def test_a_send_cut_off_midway_leaves_a_fresh_connection_behind(monkeypatch):
    statement = Statement("SELECT %(small)s", types=TYPES)
    connection.ensure_connection()
    monkeypatch.setattr(inflight_module.generators, "send", cut_off)

    with pytest.raises(CutOff):
        statement.start({"small": 1})
    monkeypatch.undo()

    assert connection.connection is None
    assert not connection.execute_wrappers  # nothing left waiting for an answer
    assert statement.start({"small": 2}).result() == [("2",)]
