"""How the worker treats its database connection between tasks, and what `enqueue` publishes."""

import pytest
from celery.utils.saferepr import saferepr
from django.db import connection

from alerts import tasks
from config.celery_app import app, close_old_database_connections
from tests.support.broker import published_messages


@pytest.mark.django_db(transaction=True)
def test_a_healthy_database_connection_is_kept_between_tasks():
    """Celery's Django fixup would close it around every task (a new PostgreSQL backend per
    delivery, which cost a third of the pipeline's throughput); ours keeps a healthy one."""
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 1000
    connection.ensure_connection()
    before = connection.connection
    close_old_database_connections()
    connection.ensure_connection()
    assert connection.connection is before


@pytest.mark.django_db(transaction=True)
def test_a_broken_database_connection_is_dropped_between_tasks():
    connection.ensure_connection()
    before = connection.connection
    connection.errors_occurred = True
    before.close()  # as if PostgreSQL had restarted
    close_old_database_connections()
    connection.ensure_connection()
    assert connection.connection is not before
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_enqueue_publishes_the_ids_and_shows_them_as_celery_would(broker_queue):
    """`enqueue` writes the headers' argument reprs itself; they are what Celery's saferepr
    gives for ids, so monitoring tools show the same."""
    ids = ["0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"]
    assert tasks.enqueue(tasks.deliver, ids)
    [(headers, args, kwargs)] = published_messages(broker_queue)
    assert (args, kwargs) == ([ids], {})
    assert headers["argsrepr"] == saferepr((ids,))
    assert headers["kwargsrepr"] == saferepr({})
