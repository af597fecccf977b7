"""How the worker treats its database connection between tasks."""

import pytest
from django.db import connection

from config.celery_app import app, close_old_database_connections


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
