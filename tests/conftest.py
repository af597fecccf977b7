import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import Client

from alerts.delivery import ahead
from alerts.delivery.channels import email
from legislators import importers
from legislators.models import Legislator, ZipDistrict
from tests.support.fixtures import server_fixture
from tests.support.forms import action_post
from tests.support.processes import CeleryWorker, worker_env
from tests.support.smtp import SmtpSink, point_email_at
from tests.support.staff import staff_login

from .factories import CampaignFactory, three_email_officials


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Rate-limit counters live in the shared Redis and are keyed by a salted hash: a salt of
    its own gives each test fresh counters, whatever ran before."""
    settings.IP_HASH_SALT = uuid.uuid4().hex


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's `admin_client`, signed in with a second factor as the admin requires."""
    client = Client()
    staff_login(client, admin_user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _ledger_connection_closed_at_the_end(django_db_setup):
    """The delivery ledger's second connection (alerts.delivery.ahead) would keep the test
    database from being dropped."""
    yield
    ahead.close()


@pytest.fixture
def broker_queue():
    """The Redis list our tasks are published to, emptied before and after the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    name = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(name)
    yield client, name
    client.delete(name)


smtp_sink = server_fixture(
    SmtpSink, "A real SMTP server on a free loopback port; what it receives is in `.messages()`."
)


@pytest.fixture
def fresh_smtp_connection():
    """The email channel keeps one SMTP connection per process: none before, none after, so
    no test inherits a connection to a sink that is gone."""
    email.close_connection()
    yield
    email.close_connection()


@pytest.fixture
def smtp_settings(settings, smtp_sink, fresh_smtp_connection):
    """Real delivery (not the sandbox), over SMTP to `smtp_sink`."""
    point_email_at(settings, smtp_sink)
    return settings


@pytest.fixture
def celery_worker(django_db_setup, smtp_sink, broker_queue):
    """A real `celery worker` process on the test database, Redis and the SMTP sink.

    Function-scoped so each test gets an empty queue and nobody else's messages.
    """
    worker = CeleryWorker(worker_env(EMAIL_URL=smtp_sink.url))
    worker.start()
    yield worker
    worker.stop()


SANDBOX_EMAIL = "sandbox@organizers.example"


@pytest.fixture
def sandbox_celery_worker(django_db_setup, live_server, smtp_sink, broker_queue):
    """Like `celery_worker`, in delivery sandbox mode: every delivery, whatever the official's
    channel (cwc, contact_form...), goes to SANDBOX_EMAIL at the SMTP sink, with headers naming
    the official. SITE_URL is the live server, so links in its emails lead back to it.
    """
    worker = CeleryWorker(
        worker_env(
            EMAIL_URL=smtp_sink.url,
            DELIVERY_SANDBOX="true",
            DELIVERY_SANDBOX_EMAIL=SANDBOX_EMAIL,
            SITE_URL=live_server.url,
        )
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def email_officials(db):
    return three_email_officials()


@pytest.fixture
def campaign(email_officials):
    return CampaignFactory(targets=email_officials)


@pytest.fixture
def form_data(email_officials):
    return action_post(email_officials)


def data_path(*parts) -> Path:
    """A file of the real public data (../shared/data). Tests that need it fail without it."""
    path = Path(settings.LEGISLATOR_DATA_DIR).joinpath(*parts)
    if not path.exists():
        pytest.fail(f"real data missing: {path} (set LEGISLATOR_DATA_DIR)")
    return path


def _import_real_data():
    current = data_path("congress-legislators", "legislators-current.yaml")
    snapshot = data_path("congress-legislators", "snapshot-2023-09-20", "legislators-current.yaml")
    importers.legislators_import(importers.parse_people(current.read_bytes()))
    importers.legislators_import(importers.parse_people(snapshot.read_bytes()), historical=True)
    for congress in (118, 119):
        raw = data_path("zccd", f"zccd_cd{congress}.csv").read_bytes()
        importers.zip_districts_import(raw, congress=congress)


def _real_data_present():
    return (
        Legislator.objects.filter(bioguide_id="P000034").exists()
        and ZipDistrict.objects.filter(congress=119).exists()
    )


@pytest.fixture(scope="session")
def _real_data_session(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if not _real_data_present():
            _import_real_data()


@pytest.fixture
def real_data(_real_data_session, db):
    """All of Congress (current + the 2023-09-20 snapshot) and ZIP districts of the 118th and
    119th Congress, imported once per session from ../shared/data.

    Transactional tests empty the tables when they end, so this imports again if needed.
    """
    if not _real_data_present():
        _import_real_data()
