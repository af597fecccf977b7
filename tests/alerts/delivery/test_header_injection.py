"""Names and subjects with `\\r\\n`, `%0d%0a`, U+2028 and friends never produce an extra header
or recipient at a real SMTP server: the form refuses real line breaks, harmless look-alikes are
sent as text, and the sending code below the form refuses (or safely encodes) what slips past."""

import email.utils
import re

import pytest
from django.conf import settings as django_settings
from django.core.mail import BadHeaderError
from django.urls import reverse

from alerts.delivery.engine import Outcome, delivery_send
from alerts.models import Action, Delivery
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory, OfficialFactory
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

EVIL = "evil@x.example"
# Every header a delivery's email carries; anything else would have been injected.
EXPECTED_HEADERS = {
    "content-type",
    "mime-version",
    "content-transfer-encoding",
    "subject",
    "from",
    "to",
    "reply-to",
    "date",
    "message-id",
}
LINE_BREAKS = {
    "crlf": "\r\n",
    "lf": "\n",
    "cr": "\r",
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
    "next-line": "\x85",
    "vertical-tab": "\x0b",
    "form-feed": "\x0c",
    "file-separator": "\x1c",
}


@pytest.fixture
def mail_sink(smtp_settings, smtp_sink):
    """The SMTP sink, with delivery pointed at it."""
    return smtp_sink


@pytest.fixture
def official():
    return OfficialFactory(title="Secretary", name="Alex Stone", email="office@officials.example")


@pytest.fixture
def campaign(official):
    return CampaignFactory(targets=[official])


def _form(official, **changes):
    return action_post([official], **{"message": "Please act.", **changes})


def _post(client, campaign, data):
    return client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)


def _header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def _assert_nothing_injected(received, official, *, reply_to="ani@example.org"):
    """One envelope, to the official only, with our headers and no others."""
    assert received.rcpt_tos == [official.email]
    assert (
        email.utils.parseaddr(received.mail_from)[1]
        == email.utils.parseaddr(django_settings.DEFAULT_FROM_EMAIL)[1]
    )
    message = received.message
    assert {name.lower() for name in message} == EXPECTED_HEADERS
    assert len(message) == len(EXPECTED_HEADERS), "no header twice"
    assert [a for _, a in email.utils.getaddresses(message.get_all("To"))] == [official.email]
    assert [a for _, a in email.utils.getaddresses(message.get_all("Reply-To"))] == [reply_to]
    for line in re.split(rb"\r\n|\r|\n", _header_block(received.raw)):
        assert not line.lower().startswith((b"bcc", b"cc:", b"x-injected"))


# --- (a) the form refuses real line breaks ----------------------------------------------------


@pytest.mark.parametrize("field", ["first_name", "last_name", "subject", "city", "street"])
@pytest.mark.parametrize("line_break", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_the_form_refuses_a_line_break_in_a_single_line_field(
    client, campaign, official, field, line_break, django_capture_on_commit_callbacks
):
    value = f"Ani{line_break}Bcc: {EVIL}"
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, campaign, _form(official, **{field: value}))
    assert response.status_code == 200
    assert "single line" in response.context["form"].errors[field][0]
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize(
    "value",
    [
        f"ani@example.org\r\nBcc: {EVIL}",
        f"ani@example.org\nBcc: {EVIL}",
        f"ani@example.org, {EVIL}",
        f"ani@example.org\u2028Bcc: {EVIL}",
    ],
)
def test_the_form_refuses_a_crafted_email_address(client, campaign, official, value):
    response = _post(client, campaign, _form(official, email=value))
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert Action.objects.count() == 0


@pytest.mark.parametrize(
    "line_break", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_the_own_words_refuse_invisible_line_breaks(client, campaign, official, line_break):
    response = _post(client, campaign, _form(official, message=f"Hi{line_break}there"))
    assert response.status_code == 200
    assert "control characters" in response.context["form"].errors["message"][0]
    assert Action.objects.count() == 0


# --- (b) what the form accepts reaches the server as text -------------------------------------


def _submit_and_deliver(client, campaign, official, smtp_sink, **changes):
    assert _post(client, campaign, _form(official, **changes)).status_code == 302
    [delivery] = Delivery.objects.filter(action=Action.objects.get())
    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT
    [received] = smtp_sink.messages()
    return delivery, received


def test_percent_encoded_line_breaks_are_plain_text(client, campaign, official, mail_sink):
    name = f"Ani%0d%0aBcc: {EVIL}"
    subject = f"Act now%0D%0ABcc: {EVIL}%0aX-Injected: 1"
    _, received = _submit_and_deliver(
        client, campaign, official, mail_sink, first_name=name, subject=subject
    )
    _assert_nothing_injected(received, official)
    assert received.message["Subject"] == subject
    assert email.utils.parseaddr(received.message["Reply-To"]) == (
        f"{name} Petrosyan",
        "ani@example.org",
    )


def test_quotes_commas_and_angle_brackets_in_a_name_add_no_address(
    client, campaign, official, mail_sink
):
    name = f'Ani "x" <{EVIL}>, {EVIL};'
    _, received = _submit_and_deliver(
        client, campaign, official, mail_sink, first_name=name, last_name=f"<{EVIL}>"
    )
    _assert_nothing_injected(received, official)
    assert email.utils.getaddresses(received.message.get_all("Reply-To")) == [
        (f"{name} <{EVIL}>", "ani@example.org")
    ]


@pytest.mark.parametrize(
    "smuggled",
    [
        f"Hi\r\n.\r\nMAIL FROM:<{EVIL}>\r\nRCPT TO:<{EVIL}>\r\nDATA\r\nBcc: {EVIL}\r\n\r\nx",
        f"Hi\n.\nMAIL FROM:<{EVIL}>\nRCPT TO:<{EVIL}>\nDATA\n\nx",
        f"Hi\r\n.\nRCPT TO:<{EVIL}>\r\n",
        f"Hi\n.\r\nRCPT TO:<{EVIL}>\r\n",
    ],
    ids=["crlf-dot-crlf", "lf-dot-lf", "crlf-dot-lf", "lf-dot-crlf"],
)
def test_line_breaks_in_the_own_words_stay_in_the_body(
    client, campaign, official, mail_sink, smuggled
):
    """The own words may span lines; a lone dot on one must not end the message early and
    start a second SMTP transaction (SMTP smuggling)."""
    _, received = _submit_and_deliver(client, campaign, official, mail_sink, message=smuggled)
    assert len(mail_sink.messages()) == 1
    _assert_nothing_injected(received, official)
    body = received.message.get_content().replace("\r\n", "\n")
    assert f"RCPT TO:<{EVIL}>" in body
    assert body.rstrip("\n").endswith("ani@example.org"), "the whole message arrived as one"


# --- (c) below the form: rows written without the form's validation ---------------------------


ROW_CASES = {
    "first-name-crlf": ("action", "first_name", f"Ani\r\nBcc: {EVIL}"),
    "last-name-lf": ("action", "last_name", f"Petrosyan\nBcc: {EVIL}"),
    "first-name-u2028": ("action", "first_name", f"Ani\u2028Bcc: {EVIL}"),
    "first-name-nel": ("action", "first_name", f"Ani\x85Bcc: {EVIL}"),
    "subject-crlf": ("delivery", "subject", f"Act now\r\nBcc: {EVIL}"),
    "subject-cr": ("delivery", "subject", f"Act now\rBcc: {EVIL}"),
    "subject-u2028": ("delivery", "subject", f"Act now\u2028Bcc: {EVIL}"),
    "subject-u2029": ("delivery", "subject", f"Act now\u2029Bcc: {EVIL}"),
    "subject-nel": ("delivery", "subject", f"Act now\x85Bcc: {EVIL}"),
}


def _crafted_delivery(official, where, field, value):
    action = ActionFactory(email="ani@example.org", **({field: value} if where == "action" else {}))
    return DeliveryFactory(
        action=action, official=official, **({field: value} if where == "delivery" else {})
    )


@pytest.mark.parametrize(("where", "field", "value"), ROW_CASES.values(), ids=ROW_CASES.keys())
def test_a_crafted_row_never_reaches_the_server_with_an_extra_header_or_recipient(
    official, mail_sink, where, field, value
):
    delivery = _crafted_delivery(official, where, field, value)
    try:
        outcome = delivery_send(delivery_id=delivery.id).outcome
    except BadHeaderError:  # whether it should raise is the next test's business
        outcome = None

    received = mail_sink.messages()
    if outcome == Outcome.SENT:
        [message] = received
        _assert_nothing_injected(message, official)
    else:
        assert received == []


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [pytest.param(*case, id=name) for name, case in ROW_CASES.items()],
)
def test_a_crafted_row_ends_failed_or_sent_with_the_header_encoded(
    official, mail_sink, where, field, value
):
    delivery = _crafted_delivery(official, where, field, value)
    outcome = delivery_send(delivery_id=delivery.id).outcome
    delivery.refresh_from_db()
    if re.search("[\r\n]", value):
        # A line break in a header fails the delivery with the reason, never a crash.
        assert outcome == Outcome.FAILED
    if outcome == Outcome.FAILED:
        assert delivery.status == Delivery.Status.FAILED
        assert delivery.last_error
        assert mail_sink.messages() == []
    else:
        assert outcome == Outcome.SENT
        assert delivery.status == Delivery.Status.SENT
        [received] = mail_sink.messages()
        _assert_nothing_injected(received, official)
        header = {"first_name": "Reply-To", "last_name": "Reply-To", "subject": "Subject"}[field]
        # The header carried the value as encoded text, whole; the line separator itself may
        # become a space when the header is folded.
        shown = str(received.message[header])
        assert " ".join(value.split()) in " ".join(shown.split())
