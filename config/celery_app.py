"""The Celery app. Its settings are the CELERY_* names in config.settings."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("action_alerts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(task=None, **kwargs):
    """As Django does around each request: keep a healthy connection for CONN_MAX_AGE, drop a
    broken or expired one. (Celery's own fixup would close it around every task; see
    CELERY_DB_REUSE_MAX.) A task run in-process (`apply()`) shares its caller's connection,
    transaction and all, so it is left alone."""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@worker_process_shutdown.connect
def close_the_ledger_connection(**kwargs):
    """The delivery ledger's own connection (alerts.delivery.ahead) ends with its process."""
    from alerts.delivery import ahead

    ahead.close()
