"""Delivery channels in this process, against real servers on loopback: an aiosmtpd sink and a
threaded HTTP receiver (the fake CWC endpoint, the webhook receiver).

Nothing here connects beyond loopback: webhook destinations on other networks are only ever
checked (and refused) before a connection, and the tests about them run with a guard that
fails any connection this process tries to a non-loopback address.
"""

import datetime as dt
import hmac
import html
import ipaddress
import socket
import time

import defusedxml.ElementTree as SafeET
import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from alerts.delivery.channels import PermanentError, cwc, email, sender_for, webhook
from alerts.delivery.engine import Outcome, Result, backoff_seconds, delivery_send
from alerts.models import Action, Attempt, Delivery
from alerts.notifications import confirmation_send, constituent_notices_send
from alerts.tasks import deliver
from tests.conftest import data_path
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory, OfficialFactory
from tests.support.broker import published_tasks
from tests.support.fixtures import server_fixture
from tests.support.forms import action_post
from tests.support.receivers import HttpReceiver, Reply
from tests.support.smtp import SmtpSink, _Handler, point_email_at

pytestmark = pytest.mark.django_db

CWC_KEY = "test-key"
WEBHOOK_SECRET = "s3cret"
AGENT_EMAIL = "cwc-agent@organizers.example"


# --- fixtures ------------------------------------------------------------------------------


class _CountingHandler(_Handler):
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.sink.lock:
            self.sink.sessions += 1
        session.host_name = hostname  # the 5-argument hook owns this
        return responses


class CountingSmtpSink(SmtpSink):
    """The SMTP sink, counting SMTP sessions (one EHLO opens each session smtplib starts)."""

    def __init__(self):
        super().__init__()
        self.sessions = 0
        self._controller.handler = _CountingHandler(self)


counting_sink = server_fixture(CountingSmtpSink)


receiver = server_fixture(HttpReceiver)


@pytest.fixture
def cwc_settings(settings, receiver, fresh_http_pool):
    settings.DELIVERY_SANDBOX = False
    settings.CWC_API_URL = receiver.url
    settings.CWC_API_KEY = CWC_KEY
    settings.CWC_DELIVERY_AGENT_EMAIL = AGENT_EMAIL
    settings.HTTP_CONNECT_TIMEOUT = 2.0
    settings.HTTP_READ_TIMEOUT = 5.0
    return settings


@pytest.fixture
def webhook_settings(settings, fresh_http_pool):
    settings.DELIVERY_SANDBOX = False
    settings.WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.HTTP_CONNECT_TIMEOUT = 2.0
    settings.HTTP_READ_TIMEOUT = 5.0
    return settings


@pytest.fixture
def loopback_only(monkeypatch):
    """Every connection this process tries to a non-loopback address fails at once and is
    recorded (the list returned), so a test can prove nothing was even attempted."""
    attempts = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def allowed(address):
        if not isinstance(address, tuple):  # AF_UNIX
            return True
        try:
            return ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            return False

    def connect(sock, address):
        if not allowed(address):
            attempts.append(address)
            raise ConnectionRefusedError(f"test guard: no connection to {address!r}")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if not allowed(address):
            attempts.append(address)
            return 111  # ECONNREFUSED
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


@pytest.fixture(scope="module")
def cwc_schema():
    return etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2.rng"))))


def _schema_errors(schema, xml: bytes) -> str:
    valid = schema.validate(etree.fromstring(xml))
    return "" if valid else str(schema.error_log)


def _cwc_official(**fields):
    return OfficialFactory(
        **{"channel": "cwc", "cwc_office": "HVA08", "email": "", "title": "Representative"} | fields
    )


# --- sender_for() --------------------------------------------------------------


def test_there_is_no_automatic_sender_for_contact_forms():
    assert sender_for("email") is email.send
    assert sender_for("cwc") is cwc.send
    assert sender_for("webhook") is webhook.send
    with pytest.raises(PermanentError, match="contact_form"):
        sender_for("contact_form")


# --- contact form only: the constituent sends it ------------------------------------------


@pytest.fixture
def form_only_official(db):
    return OfficialFactory(
        key="us-president",
        title="President",
        name="Pat Doe",
        last_name="Doe",
        channel="contact_form",
        email="",
        contact_form_url="https://www.whitehouse.gov/contact/",
    )


def test_a_contact_form_official_becomes_a_manual_delivery_and_the_thanks_page_shows_how(
    client, settings, form_only_official, broker_queue, django_capture_on_commit_callbacks
):
    settings.DELIVERY_SANDBOX = False
    campaign = CampaignFactory(targets=[form_only_official], double_opt_in=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("alerts:campaign_detail", args=[campaign.slug]),
            action_post([form_only_official]),
        )
    assert response.status_code == 302

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.MANUAL
    assert delivery.channel == "contact_form"
    assert delivery.queued_at is None
    assert delivery.attempt_log.count() == 0
    assert published_tasks(broker_queue) == []  # nothing for a worker to do

    page = client.get(response.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert f'href="{form_only_official.contact_form_url}"' in content
    # The text to paste, subject first, up to the sign-off: the office's form asks for the
    # name and address itself, and the page shows no postal address.
    letter, _, signature = delivery.body.rpartition("Sincerely,\n")
    assert f"{delivery.subject}\n\n{letter}Sincerely,\n" in html.unescape(content)
    assert "100 N Brand Blvd" in signature and "100 N Brand Blvd" not in content
    assert "Please act at the Security Council." in delivery.body


def test_the_confirmation_email_lists_the_contact_forms_to_use(
    client,
    settings,
    form_only_official,
    broker_queue,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    settings.DELIVERY_SANDBOX = False
    emailed = OfficialFactory(title="Secretary of State", name="Alex Stone", last_name="Stone")
    campaign = CampaignFactory(targets=[form_only_official, emailed], double_opt_in=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("alerts:campaign_detail", args=[campaign.slug]),
            action_post([form_only_official, emailed]),
        )
    assert response.status_code == 302

    action = Action.objects.get()
    manual = action.deliveries.get(official=form_only_official)
    assert manual.status == Delivery.Status.MANUAL
    assert action.deliveries.get(official=emailed).status == Delivery.Status.PENDING
    assert published_tasks(broker_queue) == [("alerts.send_confirmation", [action.pk])]

    assert confirmation_send(action_id=action.pk) is True
    [message] = mailoutbox
    assert message.to == ["ani@example.org"]
    going, _, rest = message.body.partition("contact forms")
    assert "- Secretary of State Alex Stone" in going
    assert "President Pat Doe" not in going
    assert "- President Pat Doe: https://www.whitehouse.gov/contact/" in rest
    # The text to paste is on the page the confirmation opens, not in the email (issue 14).
    assert manual.body not in message.body


# --- email: one SMTP connection per process -----------------------------------------------


def test_one_smtp_session_carries_many_deliveries_until_closed(
    settings, counting_sink, fresh_smtp_connection
):
    point_email_at(settings, counting_sink)
    deliveries = DeliveryFactory.create_batch(5)

    for delivery in deliveries:
        assert delivery_send(delivery_id=delivery.id) == Result(Outcome.SENT)

    assert len(counting_sink.messages()) == 5
    assert counting_sink.sessions == 1

    email.close_connection()
    assert delivery_send(delivery_id=DeliveryFactory().id) == Result(Outcome.SENT)
    assert len(counting_sink.messages()) == 6
    assert counting_sink.sessions == 2


def test_a_4xx_smtp_reply_queues_the_delivery_again_after_a_backoff(
    smtp_settings, smtp_sink, django_capture_on_commit_callbacks
):
    smtp_sink.reply_for = lambda envelope: "421 4.3.2 try later"
    delivery = DeliveryFactory()
    started = timezone.now()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = delivery_send(delivery_id=delivery.id)

    assert result.outcome == Outcome.RETRY
    # The first retry waits base * 2^0 with jitter on the upper half: 15 to 30 seconds.
    assert 15 <= result.retry_in <= 30
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    waited = (delivery.next_attempt_at - started).total_seconds()
    assert result.retry_in - 1 <= waited <= result.retry_in + 5
    assert delivery.lease_expires_at is None
    assert "421" in delivery.last_error
    assert "try later" in delivery.last_error
    [attempt] = delivery.attempt_log.all()
    assert attempt.outcome == Attempt.Outcome.RETRY
    assert attempt.number == 1
    assert "421" in attempt.error
    assert attempt.finished_at is not None
    assert callbacks == []  # no failure notice for a retry
    assert smtp_sink.messages() == []

    # Not due yet: running it again does nothing.
    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.SKIPPED)
    assert delivery.attempt_log.count() == 1


def test_a_5xx_smtp_reply_fails_once_and_the_constituent_is_told(
    smtp_settings, smtp_sink, broker_queue
):
    smtp_sink.reply_for = lambda envelope: "550 5.1.1 no such user"
    official = OfficialFactory(
        title="Secretary of State",
        name="Alex Stone",
        last_name="Stone",
        contact_form_url="https://state.example/contact",
    )
    delivery = DeliveryFactory(
        official=official,
        action=ActionFactory(email="ani@example.org"),
        subject="Protect civilians now",
        constituent_message="My own words: protect civilians.",
        body="Dear Secretary of State Stone,\n\nPlease act.\n\nMy own words: protect civilians.\n",
    )

    outcomes = deliver.apply(args=[[str(delivery.id)]]).get()

    assert outcomes == {str(delivery.id): Outcome.FAILED}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.failed_at is not None
    assert delivery.attempts == 1
    assert "550" in delivery.last_error
    assert "no such user" in delivery.last_error
    [attempt] = delivery.attempt_log.all()
    assert attempt.outcome == Attempt.Outcome.FAILED
    assert attempt.error == delivery.last_error
    assert smtp_sink.messages() == []
    # The failure notice was queued, once the failure was recorded: the action's, by its id.
    assert published_tasks(broker_queue) == [("alerts.notify_constituent", [delivery.action_id])]

    # What that task sends: to the constituent, naming the official, with the way round.
    smtp_sink.reply_for = lambda envelope: None
    assert constituent_notices_send(action_id=delivery.action_id) == 1
    [notice] = smtp_sink.messages()
    assert notice.rcpt_tos == ["ani@example.org"]
    assert "Secretary of State Alex Stone" in notice.message["Subject"]
    text = notice.message.get_content().replace("\r\n", "\n")
    assert "https://state.example/contact" in text
    assert delivery.subject in text
    assert delivery.body in text
    assert constituent_notices_send(action_id=delivery.action_id) == 0  # once


def test_a_transient_error_on_the_last_attempt_gives_up(smtp_settings, smtp_sink):
    smtp_settings.DELIVERY_MAX_ATTEMPTS = 3
    smtp_sink.reply_for = lambda envelope: "421 4.3.2 try later"
    delivery = DeliveryFactory(attempts=2)
    for number in (1, 2):
        Attempt.objects.create(
            delivery=delivery,
            number=number,
            channel="email",
            started_at=timezone.now(),
            finished_at=timezone.now(),
            outcome=Attempt.Outcome.RETRY,
        )

    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.FAILED)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("gave up after 3 attempts: ")
    assert "421" in delivery.last_error
    *_, attempt = delivery.attempt_log.all()
    assert attempt.number == 3
    assert attempt.outcome == Attempt.Outcome.FAILED


# --- retry policy ----------------------------------------------------------------------------


def test_backoff_grows_is_capped_and_jittered(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 30.0
    settings.DELIVERY_RETRY_CAP_SECONDS = 600.0
    draws = {n: [backoff_seconds(n) for _ in range(20)] for n in range(1, 11)}

    for n, values in draws.items():
        ceiling = min(600.0, 30.0 * 2 ** (n - 1))
        assert all(ceiling / 2 <= v <= ceiling for v in values), (n, values)
    for n in range(1, 5):  # below the cap, each attempt waits at least as long as the last
        assert min(draws[n + 1]) >= max(draws[n])
    assert max(draws[1]) <= 30.0
    capped = [v for n in range(6, 11) for v in draws[n]]
    assert all(300.0 <= v <= 600.0 for v in capped)
    assert max(backoff_seconds(50) for _ in range(20)) <= 600.0
    assert len(set(draws[10])) > 1  # jittered, not one fixed value


# --- HTTP: the fake CWC endpoint ---------------------------------------------------------------


def test_cwc_posts_xml_with_the_api_key(cwc_settings, receiver, cwc_schema):
    delivery = DeliveryFactory(official=_cwc_official())

    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.SENT)

    [request] = receiver.requests()
    assert request.method == "POST"
    assert request.path == "/v2/message"
    assert request.query == {"apikey": [CWC_KEY]}
    assert request.header("Content-Type") == "application/xml"
    assert _schema_errors(cwc_schema, request.body) == ""
    assert SafeET.fromstring(request.body).findtext("Delivery/DeliveryId") == delivery.id.hex
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


@pytest.mark.parametrize(
    ("reply", "outcome", "error"),
    [
        (Reply(503, "busy"), Outcome.RETRY, "HTTP 503"),
        (Reply(500, "oops"), Outcome.RETRY, "HTTP 500"),
        (Reply(429, "slow down", {"Retry-After": "60"}), Outcome.RETRY, "HTTP 429"),
        (
            Reply(400, "<Errors><Error>Invalid MemberOffice</Error></Errors>"),
            Outcome.FAILED,
            "Invalid MemberOffice",
        ),
        (Reply(404, "no such path"), Outcome.FAILED, "HTTP 404"),
    ],
)
def test_cwc_answers_are_sorted_into_retry_and_failure(
    cwc_settings, receiver, reply, outcome, error
):
    receiver.always(reply)
    delivery = DeliveryFactory(official=_cwc_official())

    assert delivery_send(delivery_id=delivery.id).outcome == outcome

    assert len(receiver.requests()) == 1  # no retry inside the attempt
    delivery.refresh_from_db()
    expected = Delivery.Status.QUEUED if outcome == Outcome.RETRY else Delivery.Status.FAILED
    assert delivery.status == expected
    assert error in delivery.last_error
    if error == "Invalid MemberOffice":
        assert delivery.last_error == "Invalid MemberOffice"  # the answer's own words
    [attempt] = delivery.attempt_log.all()
    assert attempt.outcome == outcome


def test_a_redirect_is_a_failure_and_is_not_followed(cwc_settings, receiver):
    receiver.redirect_to(f"{receiver.url}/followed")
    delivery = DeliveryFactory(official=_cwc_official())

    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.FAILED)

    [request] = receiver.requests()
    assert request.path == "/v2/message"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "HTTP 302" in delivery.last_error


def test_a_receiver_that_never_answers_is_retried_after_the_read_timeout(cwc_settings, receiver):
    cwc_settings.HTTP_READ_TIMEOUT = 0.5
    receiver.never_answer()
    delivery = DeliveryFactory(official=_cwc_official())

    started = time.monotonic()
    result = delivery_send(delivery_id=delivery.id)
    elapsed = time.monotonic() - started

    assert result.outcome == Outcome.RETRY
    assert 0.4 <= elapsed < 3.0
    assert len(receiver.requests()) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED
    assert "timed out" in delivery.last_error.lower()


def test_a_refused_connection_is_retried(cwc_settings, receiver):
    receiver.stop()  # nothing listens on that port any more
    delivery = DeliveryFactory(official=_cwc_official())

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.RETRY

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED


# --- webhooks: destinations --------------------------------------------------------------------


PRIVATE_URLS = [
    "http://127.0.0.1:9/hook",
    "http://10.0.0.1/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:9/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0:9/hook",
    "http://2130706433:9/hook",  # 127.0.0.1 as one number
    "http://localhost:9/hook",
    "https://localhost/hook",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_webhook_destinations_on_private_networks_are_refused_before_connecting(
    webhook_settings, loopback_only, url
):
    with pytest.raises(PermanentError, match="non-public address"):
        webhook.check_destination(url)
    assert loopback_only == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://files.example/x", "http:///x"])
def test_webhook_destinations_must_be_http_urls(webhook_settings, url):
    webhook_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with pytest.raises(PermanentError, match="not an http"):
        webhook.check_destination(url)


def test_a_webhook_to_loopback_fails_without_a_request_unless_allowed(
    webhook_settings, receiver, loopback_only
):
    official = OfficialFactory(channel="webhook", email="", webhook_url=f"{receiver.url}/hook")
    delivery = DeliveryFactory(official=official)

    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.FAILED)

    assert receiver.requests() == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "non-public address (127.0.0.1)" in delivery.last_error

    webhook_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    allowed = DeliveryFactory(official=official)
    assert delivery_send(delivery_id=allowed.id) == Result(Outcome.SENT)
    [request] = receiver.requests()
    assert request.path == "/hook"
    assert loopback_only == []


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, "sha256").hexdigest()
    )


def test_a_webhook_is_signed_json_with_an_idempotency_key(webhook_settings, receiver):
    webhook_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    official = OfficialFactory(channel="webhook", email="", webhook_url=f"{receiver.url}/hook")
    delivery = DeliveryFactory(official=official, constituent_message="Mes propres mots, café ✓")

    assert delivery_send(delivery_id=delivery.id) == Result(Outcome.SENT)

    [request] = receiver.requests()
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == str(delivery.id)
    timestamp = request.header(webhook.TIMESTAMP_HEADER)
    assert abs(int(timestamp) - time.time()) < 60
    assert request.header(webhook.SIGNATURE_HEADER) == _expected_signature(
        WEBHOOK_SECRET, timestamp, request.body
    )
    assert request.header(webhook.SIGNATURE_HEADER) != _expected_signature(
        "wrong", timestamp, request.body
    )
    payload = request.json()
    assert payload["delivery_id"] == str(delivery.id)
    assert payload["constituent_message"] == "Mes propres mots, café ✓"
    assert payload["organization_statement"] == delivery.organization_statement
    assert payload["official"]["id"] == official.key


def test_a_name_that_rebinds_to_loopback_after_the_check_gets_nothing(
    webhook_settings, receiver, loopback_only, monkeypatch
):
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.invalid":
            return real_getaddrinfo(host, port, *args, **kwargs)
        # First a public address (the check), then loopback (the connection).
        address = "93.184.215.14" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    official = OfficialFactory(
        channel="webhook", email="", webhook_url=f"http://rebind.invalid:{receiver.port}/hook"
    )
    delivery = DeliveryFactory(official=official)

    result = delivery_send(delivery_id=delivery.id)

    # Whatever the outcome, nothing may reach the loopback receiver (and the guard keeps any
    # connection to the public address from leaving this machine).
    assert receiver.requests() == []
    assert result.outcome != Outcome.SENT


# --- CWC XML -------------------------------------------------------------------------------


@pytest.fixture
def cwc_delivery(settings):
    settings.CWC_DELIVERY_AGENT_EMAIL = AGENT_EMAIL

    def make(**fields):
        action_fields = {
            k[len("action__") :]: v for k, v in fields.items() if k.startswith("action__")
        }
        delivery_fields = {k: v for k, v in fields.items() if not k.startswith("action__")}
        action = ActionFactory(**action_fields)
        return DeliveryFactory(
            **{"official": _cwc_official(), "action": action, "constituent_message": ""}
            | delivery_fields
        )

    return make


def test_the_cwc_message_validates_against_the_schema(cwc_delivery, cwc_schema):
    delivery = cwc_delivery(
        constituent_message="My own words, written by me.",
        organization_statement="Please act, Representative. Our asks:\n1. Protect civilians",
        action__confirmed_at=timezone.now(),
    )
    xml = cwc.build_message(delivery)

    assert _schema_errors(cwc_schema, xml) == ""
    root = SafeET.fromstring(xml)
    assert root.findtext("Delivery/DeliveryId") == delivery.id.hex
    assert len(delivery.id.hex) == 32
    assert root.findtext("Delivery/CampaignId") == cwc.campaign_id(delivery.action.campaign)
    assert root.findtext("Recipient/MemberOffice") == "HVA08"
    assert root.findtext("Constituent/EmailValidation") == "Y"
    assert root.findtext("Message/OrganizationStatement") == delivery.organization_statement
    assert root.findtext("Message/ConstituentMessage") == "My own words, written by me."
    assert root.findtext("Message/LibraryOfCongressTopics/LibraryOfCongressTopic") == (
        delivery.action.campaign.cwc_topic
    )


def test_the_campaign_id_is_stable_and_differs_between_campaigns(db):
    campaign, other = CampaignFactory(), CampaignFactory()
    assert (
        cwc.campaign_id(campaign)
        == cwc.campaign_id(campaign)
        == cwc.campaign_id(type(campaign).objects.get(pk=campaign.pk))
    )
    assert cwc.campaign_id(campaign) != cwc.campaign_id(other)


@pytest.mark.parametrize(("words", "kept"), [("", False), ("Yes!", False), ("Thanks", True)])
def test_a_constituent_message_under_six_characters_is_left_out(
    cwc_delivery, cwc_schema, words, kept
):
    delivery = cwc_delivery(constituent_message=words)
    xml = cwc.build_message(delivery)

    assert _schema_errors(cwc_schema, xml) == ""
    found = SafeET.fromstring(xml).findtext("Message/ConstituentMessage")
    assert found == (words if kept else None)


def test_special_characters_round_trip_through_the_xml(cwc_delivery, cwc_schema):
    tricky = "Fish & chips < 3 > 2, \"quoted\" 'single' ]]> &amp; 🕊️ café naïve São Paulo"
    delivery = cwc_delivery(
        action__first_name="Zoë & <Ann>",
        action__last_name='O\'Brien "Jr"',
        action__street="1 Rue de l'Église & Co",
        action__city="Ñuñoa <North>",
        subject='Peace & "quiet" <now> 🕊️',
        organization_statement='We & our <members> ask: "act" — merci.',
        constituent_message=tricky + "\nSecond line.",
    )
    xml = cwc.build_message(delivery)

    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert _schema_errors(cwc_schema, xml) == ""
    root = SafeET.fromstring(xml)
    assert root.findtext("Constituent/FirstName") == "Zoë & <Ann>"
    assert root.findtext("Constituent/LastName") == 'O\'Brien "Jr"'
    assert root.findtext("Constituent/Address1") == "1 Rue de l'Église & Co"
    assert root.findtext("Constituent/City") == "Ñuñoa <North>"
    assert root.findtext("Message/Subject") == 'Peace & "quiet" <now> 🕊️'
    assert root.findtext("Message/OrganizationStatement") == delivery.organization_statement
    assert root.findtext("Message/ConstituentMessage") == tricky + "\nSecond line."
    # No markup came from the data: the only elements are the ones we built.
    assert {element.tag for element in root.iter()}.isdisjoint({"Ann", "members", "now", "North"})


def test_the_default_delivery_agent_settings_make_a_valid_message(
    settings, cwc_delivery, cwc_schema
):
    delivery = cwc_delivery(constituent_message="My own words, written by me.")
    from config.settings import base

    settings.CWC_DELIVERY_AGENT_EMAIL = base.CWC_DELIVERY_AGENT_EMAIL

    assert _schema_errors(cwc_schema, cwc.build_message(delivery)) == ""


def test_a_short_organization_name_still_makes_a_valid_message(cwc_delivery, cwc_schema):
    delivery = cwc_delivery(constituent_message="My own words, written by me.")
    campaign = delivery.action.campaign
    campaign.organization_name = "ACLU"
    campaign.save()
    delivery = Delivery.objects.select_related("action__campaign", "official").get(pk=delivery.pk)

    assert _schema_errors(cwc_schema, cwc.build_message(delivery)) == ""


# --- the Celery settings the pipeline relies on --------------------------------------------


def test_celery_settings_that_keep_deliveries_from_being_lost_or_doubled(settings):
    from config.celery_app import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert list(conf.accept_content) == ["json"]
    assert conf.task_serializer == "json"
    assert settings.REDIS_URL  # as in tests and production
    assert conf.broker_url == settings.REDIS_URL
    # The timings' relationships are a system check (tests/alerts/operations/test_celery_checks.py).
    assert conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert conf.broker_transport_options == settings.CELERY_BROKER_TRANSPORT_OPTIONS
    sweeps = [e for e in conf.beat_schedule.values() if e["task"] == "alerts.sweep"]
    assert len(sweeps) == 1
    schedule = sweeps[0]["schedule"]
    seconds = schedule.total_seconds() if isinstance(schedule, dt.timedelta) else schedule
    assert 0 < seconds <= settings.DELIVERY_REQUEUE_AFTER_SECONDS
    assert "alerts.sweep" in app.tasks


def test_manage_py_check_refuses_cwc_with_placeholder_operator_details(settings):
    from django.core.checks import run_checks

    settings.CWC_API_KEY = "live-key"
    ids = [message.id for message in run_checks() if message.id == "alerts.E001"]
    assert len(ids) == 3
    settings.CWC_DELIVERY_AGENT_EMAIL = "mail@operator.example"
    settings.CWC_DELIVERY_AGENT_CONTACT = "Pat Operator"
    settings.CWC_DELIVERY_AGENT_PHONE = "202-555-0100"
    assert not [m for m in run_checks() if m.id == "alerts.E001"]


def test_manage_py_check_refuses_batches_that_could_outrun_the_task_time_limit(settings):
    from django.core.checks import run_checks

    assert not [m for m in run_checks() if m.id == "alerts.E002"]  # the defaults fit
    settings.DELIVERY_BATCH_SECONDS = (
        settings.CELERY_TASK_SOFT_TIME_LIMIT - 2 * settings.EMAIL_TIMEOUT
    )
    [error] = [m for m in run_checks() if m.id == "alerts.E002"]
    assert "DELIVERY_BATCH_SECONDS" in error.msg
    settings.DELIVERY_BATCH_SECONDS -= 1
    assert not [m for m in run_checks() if m.id == "alerts.E002"]
