"""STARTTLS to a mail server we cannot trust: with EMAIL_USE_TLS the email channel insists on
STARTTLS and verifies the server's certificate (Django's SMTP backend: the default SSL context),
so a self-signed certificate, or a server that offers no STARTTLS, fails the attempt with the
reason and nothing is ever sent in clear. The same server, once its certificate is trusted,
takes the message over TLS: the failures are the certificate's and the missing STARTTLS's,
not the sink's."""

import pytest

from alerts.delivery.channels import email
from alerts.delivery.engine import Outcome, delivery_send
from alerts.models import Attempt, Delivery
from tests.factories import DeliveryFactory
from tests.support.smtp import SelfSignedCertificate, SmtpSink, point_email_at

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return SelfSignedCertificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls(settings, monkeypatch):
    """`starttls(sink)`: real delivery over SMTP with STARTTLS required, to `sink`, on a fresh
    connection (the channel keeps one per process)."""
    # Only the roots that come with the system: nothing a test run may have added.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    def point(sink):
        email.close_connection()
        point_email_at(settings, sink)
        settings.EMAIL_USE_TLS = True
        settings.EMAIL_TIMEOUT = 5
        return sink

    yield point
    email.close_connection()


@pytest.fixture
def sinks():
    started = []

    def start(**options):
        sink = SmtpSink(**options).start()
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.stop()


def _send_one():
    delivery = DeliveryFactory()
    result = delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return result, delivery, list(delivery.attempt_log.all())


def test_starttls_to_a_self_signed_certificate_fails_the_attempt_and_sends_nothing_in_clear(
    certificate, starttls, sinks
):
    sink = starttls(sinks(tls=certificate))

    result, delivery, attempts = _send_one()

    assert sink.messages() == []  # not over TLS, and not in clear either
    assert result.outcome == Outcome.RETRY
    assert [a.outcome for a in attempts] == [Attempt.Outcome.RETRY]
    assert "CERTIFICATE_VERIFY_FAILED" in attempts[0].error, attempts[0].error
    assert "self-signed" in attempts[0].error or "self signed" in attempts[0].error
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.sent_at is None
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error


def test_a_server_without_starttls_is_not_sent_to_in_clear(starttls, sinks):
    sink = starttls(sinks())  # plain SMTP: it would take the message in clear

    result, delivery, attempts = _send_one()

    assert sink.messages() == []
    assert result.outcome == Outcome.RETRY
    assert "STARTTLS extension not supported" in attempts[0].error, attempts[0].error
    assert delivery.sent_at is None


def test_the_same_server_with_its_certificate_trusted_takes_the_message_over_tls(
    certificate, starttls, sinks, monkeypatch
):
    sink = starttls(sinks(tls=certificate))
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.path))  # what a trusted CA would do

    result, delivery, attempts = _send_one()

    assert result.outcome == Outcome.SENT
    assert [a.outcome for a in attempts] == [Attempt.Outcome.SENT]
    [received] = sink.messages()
    assert received.tls is True
    assert received.message["Message-ID"] == delivery.message_id
