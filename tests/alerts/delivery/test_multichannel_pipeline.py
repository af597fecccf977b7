"""End to end on every automatic channel: form → PostgreSQL → Redis → a real Celery worker
process → an SMTP sink, a fake CWC endpoint and a webhook receiver, all on loopback."""

import email.utils
import hmac
import time

import defusedxml.ElementTree as SafeET
import pytest
from django.urls import reverse
from lxml import etree

from alerts.delivery.channels import cwc, webhook
from alerts.models import Action, Attempt, Delivery
from tests.conftest import data_path
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.fixtures import server_fixture
from tests.support.forms import action_post
from tests.support.processes import CeleryWorker, wait_until, worker_env
from tests.support.receivers import HttpReceiver

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CWC_KEY = "test-key"
WEBHOOK_SECRET = "s3cret"
# The default (cwc@localhost) does not pass the schema's email pattern: see test_channels.
AGENT_EMAIL = "cwc-agent@organizers.example"
WAIT = 30.0  # seconds, the most any one wait here may take

OWN_WORDS = 'Please protect civilians & aid workers: "now", not <later>. Merci, café 🕊️'


cwc_receiver = server_fixture(HttpReceiver)
webhook_receiver = server_fixture(HttpReceiver)


@pytest.fixture
def channel_settings(settings, cwc_receiver):
    """This process routes the submission, so it must see the channels as the worker does."""
    settings.DELIVERY_SANDBOX = False
    settings.CWC_API_URL = cwc_receiver.url
    settings.CWC_API_KEY = CWC_KEY
    settings.CWC_DELIVERY_AGENT_EMAIL = AGENT_EMAIL
    settings.WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return settings


@pytest.fixture
def multichannel_worker(django_db_setup, smtp_sink, broker_queue, cwc_receiver, webhook_receiver):
    worker = CeleryWorker(
        worker_env(
            EMAIL_URL=smtp_sink.url,
            CWC_API_URL=cwc_receiver.url,
            CWC_API_KEY=CWC_KEY,
            CWC_DELIVERY_AGENT_EMAIL=AGENT_EMAIL,
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
        )
    )
    worker.start(timeout=WAIT)
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def cwc_schema():
    return etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2.rng"))))


def _submit(client, campaign, officials, *, email_address, message):
    data = action_post(officials, email=email_address, message=message)
    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Action.objects.get(email=email_address)


def _all_sent(action, count):
    statuses = list(action.deliveries.values_list("status", flat=True))
    return len(statuses) == count and set(statuses) == {Delivery.Status.SENT}


def test_one_action_reaches_its_email_cwc_and_webhook_officials_exactly_once(
    client,
    channel_settings,
    multichannel_worker,
    smtp_sink,
    cwc_receiver,
    webhook_receiver,
    broker_queue,
    cwc_schema,
):
    emailed = OfficialFactory(
        title="Secretary of State",
        name="Alex Stone",
        last_name="Stone",
        channel="email",
        email="secretary@state.example",
    )
    house = OfficialFactory(
        title="Representative",
        name="Robin Vale",
        last_name="Vale",
        channel="cwc",
        cwc_office="HVA08",
        email="",
    )
    hooked = OfficialFactory(
        title="Ambassador",
        name="Sam Ortiz",
        last_name="Ortiz",
        channel="webhook",
        email="",
        webhook_url=f"{webhook_receiver.url}/hooks/alerts",
    )
    campaign = CampaignFactory(
        targets=[emailed, house, hooked], double_opt_in=False, target_congress=False
    )

    action = _submit(
        client,
        campaign,
        [emailed, house, hooked],
        email_address="ani@example.org",
        message=OWN_WORDS,
    )

    [mail] = smtp_sink.wait_for(1, timeout=WAIT)
    [cwc_request] = cwc_receiver.wait_for(1, timeout=WAIT)
    [hook_request] = webhook_receiver.wait_for(1, timeout=WAIT)
    wait_until(lambda: _all_sent(action, 3), timeout=WAIT, message="all three deliveries sent")
    redis_client, queue = broker_queue
    wait_until(lambda: redis_client.llen(queue) == 0, timeout=WAIT, message="queue drained")
    wait_until(
        lambda: "succeeded in" in multichannel_worker.log(),
        timeout=WAIT,
        message="the worker finished the action's task",
    )
    # A duplicate on its way would be a task on the queue or in the worker's hands: a sweep
    # sent after the task has run, and nothing left in hand, says none is.
    multichannel_worker.sweep_and_settle(timeout=WAIT)
    deliveries = {
        d.channel: d for d in action.deliveries.select_related("official", "action__campaign")
    }
    assert set(deliveries) == {"email", "cwc", "webhook"}

    # Every message arrived exactly once, at its own receiver.
    assert len(smtp_sink.messages()) == 1
    assert len(cwc_receiver.requests()) == 1
    assert len(webhook_receiver.requests()) == 1
    for delivery in deliveries.values():
        assert delivery.status == Delivery.Status.SENT
        assert delivery.attempts == 1
        [attempt] = delivery.attempt_log.all()
        assert attempt.outcome == Attempt.Outcome.SENT
        assert attempt.channel == delivery.channel
        assert delivery.constituent_message == OWN_WORDS

    # Email: to the office, replies to the constituent, our stable Message-ID.
    by_email = deliveries["email"]
    assert mail.rcpt_tos == ["secretary@state.example"]
    assert mail.message["To"] == "secretary@state.example"
    assert email.utils.parseaddr(mail.message["Reply-To"]) == ("Ani Petrosyan", "ani@example.org")
    assert mail.message["Message-ID"] == by_email.message_id
    assert mail.message["Subject"] == "Protect civilians now"
    assert OWN_WORDS in mail.message.get_content()

    # CWC: XML the schema accepts, with the constituent's words apart from the campaign's.
    by_cwc = deliveries["cwc"]
    assert cwc_request.method == "POST"
    assert cwc_request.path == "/v2/message"
    assert cwc_request.query == {"apikey": [CWC_KEY]}
    assert cwc_request.header("Content-Type") == "application/xml"
    schema_ok = cwc_schema.validate(etree.fromstring(cwc_request.body))
    assert schema_ok, str(cwc_schema.error_log)
    root = SafeET.fromstring(cwc_request.body)
    delivery_id = root.findtext("Delivery/DeliveryId")
    assert delivery_id == by_cwc.id.hex
    assert len(delivery_id) == 32
    first_campaign_id = root.findtext("Delivery/CampaignId")
    assert first_campaign_id == cwc.campaign_id(campaign)
    assert root.findtext("Recipient/MemberOffice") == "HVA08"
    assert root.findtext("Message/OrganizationStatement") == by_cwc.organization_statement
    assert root.findtext("Message/ConstituentMessage") == OWN_WORDS
    assert OWN_WORDS not in by_cwc.organization_statement
    assert root.findtext("Constituent/FirstName") == "Ani"
    assert root.findtext("Constituent/Email") == "ani@example.org"

    # Webhook: signed JSON, keyed by the delivery for idempotence.
    by_hook = deliveries["webhook"]
    assert hook_request.method == "POST"
    assert hook_request.path == "/hooks/alerts"
    assert hook_request.header("Content-Type") == "application/json"
    assert hook_request.header("Idempotency-Key") == str(by_hook.id)
    timestamp = hook_request.header(webhook.TIMESTAMP_HEADER)
    assert abs(int(timestamp) - time.time()) < 120
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + hook_request.body, "sha256"
    ).hexdigest()
    assert hmac.compare_digest(hook_request.header(webhook.SIGNATURE_HEADER), f"sha256={expected}")
    payload = hook_request.json()
    assert payload["delivery_id"] == str(by_hook.id)
    assert payload["campaign"] == campaign.slug
    assert payload["official"]["id"] == hooked.key
    assert payload["constituent_message"] == OWN_WORDS
    assert payload["organization_statement"] == by_hook.organization_statement
    assert payload["constituent"]["email"] == "ani@example.org"

    # A second constituent on the same campaign: CWC sees the same CampaignId, a new DeliveryId.
    second = _submit(
        client,
        campaign,
        [house],
        email_address="second@example.org",
        message="I agree with every word of this campaign.",
    )
    _, second_request = cwc_receiver.wait_for(2, timeout=WAIT)
    wait_until(lambda: _all_sent(second, 1), timeout=WAIT, message="second delivery sent")
    second_root = SafeET.fromstring(second_request.body)
    assert second_root.findtext("Delivery/CampaignId") == first_campaign_id
    assert second_root.findtext("Delivery/DeliveryId") == second.deliveries.get().id.hex
    assert second_root.findtext("Delivery/DeliveryId") != delivery_id
    assert len(smtp_sink.messages()) == 1
    assert len(webhook_receiver.requests()) == 1
