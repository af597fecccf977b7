import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.support.processes import CeleryWorker
from tests.support.smtp import SmtpSink

from .factories import CampaignFactory, OfficialFactory


@pytest.fixture
def broker_queue():
    """The Redis list our tasks are published to, emptied before and after the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    name = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(name)
    yield client, name
    client.delete(name)


@pytest.fixture
def smtp_sink():
    """A real SMTP server on a free loopback port; what it receives is in `.messages()`."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker(django_db_setup, smtp_sink, broker_queue):
    """A real `celery worker` process on the test database, Redis and the SMTP sink.

    Function-scoped so each test gets an empty queue and nobody else's messages.
    """
    db = connection.settings_dict
    worker = CeleryWorker(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "EMAIL_URL": smtp_sink.url,
            "DELIVERY_SANDBOX": "false",
            "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        }
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def email_officials(db):
    return [
        OfficialFactory(title="Secretary of State", name="Alex Stone", last_name="Stone"),
        OfficialFactory(title="Senator", name="Robin Vale", last_name="Vale"),
        OfficialFactory(title="Representative", name="Sam Ortiz", last_name="Ortiz"),
    ]


@pytest.fixture
def campaign(email_officials):
    return CampaignFactory(targets=email_officials)


@pytest.fixture
def form_data(email_officials):
    return {
        "first_name": "Ani",
        "last_name": "Petrosyan",
        "email": "ani@example.org",
        "street": "100 N Brand Blvd",
        "city": "Glendale",
        "state": "CA",
        "zip_code": "91203",
        "officials": [str(o.pk) for o in email_officials],
        "subject": "Protect civilians now",
        "message": "Please act at the Security Council.",
    }
