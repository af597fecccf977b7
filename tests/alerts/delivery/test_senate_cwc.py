"""The Senate's CWC (SCWC) channel against a local fake that checks every message against the
Senate's grammar (tests/support/scwc.py), and the rate limit that keeps every worker together
under SENATE_CWC_RATE_PER_SECOND."""

import collections
import datetime as dt
import itertools
import time
import zoneinfo

import defusedxml.ElementTree as SafeET
import pytest
from django.utils import timezone
from lxml import etree

from alerts.delivery import ratelimit
from alerts.delivery.channels import PermanentError, TransientError, cwc
from alerts.delivery.engine import Outcome, delivery_send
from alerts.models import Delivery
from alerts.tasks import deliveries_enqueue
from legislators.models import Chamber, SenateCwcOffice
from tests.conftest import data_path
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    DeliveryFactory,
    LegislatorFactory,
    OfficialFactory,
)
from tests.support.fixtures import server_fixture
from tests.support.processes import CeleryWorker, wait_until, worker_env
from tests.support.receivers import Reply
from tests.support.scwc import LoseAnswer, Refuse, ScwcFake, Unavailable

pytestmark = pytest.mark.django_db

SCWC_KEY = "test-key"
AGENT_EMAIL = "cwc-agent@organizers.example"  # the default does not pass the grammar
EASTERN = zoneinfo.ZoneInfo("America/New_York")
A_TUESDAY_NOON = dt.datetime(2025, 3, 11, 12, 0, tzinfo=EASTERN)
Status = Delivery.Status

scwc = server_fixture(ScwcFake)


@pytest.fixture(scope="module")
def senate_schema():
    return etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2_senate.rng"))))


@pytest.fixture(scope="module")
def house_schema():
    return etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2.rng"))))


@pytest.fixture
def clock(monkeypatch):
    """The clock SCWC's maintenance windows are read on: a Tuesday noon unless a test moves it
    (so that no test depends on the day it runs)."""
    now = {"at": A_TUESDAY_NOON}
    monkeypatch.setattr(cwc, "_now", lambda: now["at"])
    return now


@pytest.fixture
def scwc_settings(settings, scwc, fresh_http_pool, clock):
    settings.DELIVERY_SANDBOX = False
    settings.SENATE_CWC_URL = scwc.url
    settings.SENATE_CWC_API_KEY = SCWC_KEY
    settings.SENATE_CWC_STAGE = "production"
    settings.CWC_DELIVERY_AGENT_EMAIL = AGENT_EMAIL
    settings.SENATE_CWC_RATE_PER_SECOND = 0  # no limit, but in the tests about it
    return settings


def _senator(office="SNJ01", **fields):
    return OfficialFactory(
        **{
            "channel": "cwc",
            "cwc_office": office,
            "email": "",
            "title": "Senator",
            "kind": "executive",  # a Legislator row is beside the point here
        }
        | fields
    )


def _delivery(*, prefix="Ms.", topic="International Affairs", office="SNJ01", **fields):
    action = ActionFactory(
        prefix=prefix,
        campaign=CampaignFactory(cwc_topic=topic),
        confirmed_at=timezone.now(),
        state="NJ",
        zip_code="08854",
    )
    return DeliveryFactory(
        **{
            "official": _senator(office),
            "action": action,
            "subject": "Protect civilians now",
            "organization_statement": "We ask you to act for a ceasefire.",
            "constituent_message": "My own words, written by me.",
        }
        | fields
    )


def _errors(schema, xml: bytes) -> str:
    return "" if schema.validate(etree.fromstring(xml)) else str(schema.error_log)


def _due_again(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --- the message and the grammars ------------------------------------------------------------


def test_a_senate_delivery_is_posted_as_xml_the_senate_grammar_accepts(scwc_settings, scwc):
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT

    [request] = scwc.requests()
    assert request.method == "POST"
    assert request.path == "/api/production-messages/"
    assert request.query == {"apikey": [SCWC_KEY]}
    assert request.header("Content-Type") == "application/xml"
    assert scwc.invalid == []
    assert list(scwc.accepted) == [delivery.id.hex]
    assert scwc.answers == [201]
    root = SafeET.fromstring(request.body)
    assert root.findtext("Recipient/MemberOffice") == "SNJ01"
    assert root.findtext("Constituent/Prefix") == "Ms."
    assert root.findtext("Delivery/CampaignId") == cwc.campaign_id(delivery.action.campaign)
    assert root.findtext("Message/ConstituentMessage") == "My own words, written by me."
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.attempts == 1


def test_the_testing_stage_posts_to_the_testing_path(scwc_settings, scwc):
    scwc_settings.SENATE_CWC_STAGE = "testing"
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT

    assert [r.path for r in scwc.requests()] == ["/api/testing-messages/"]


def test_an_unknown_stage_fails_without_a_request(scwc_settings, scwc):
    scwc_settings.SENATE_CWC_STAGE = "staging"
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    assert scwc.requests() == []
    delivery.refresh_from_db()
    assert "SENATE_CWC_STAGE" in delivery.last_error


@pytest.mark.parametrize("prefix", cwc.SENATE_PREFIXES)
def test_every_senate_prefix_validates(scwc_settings, senate_schema, prefix):
    xml = cwc.build_message(_delivery(prefix=prefix))
    assert _errors(senate_schema, xml) == ""


@pytest.mark.parametrize("office", ["SCA03", "SNJ01", "SWY02"])
def test_the_house_grammar_refuses_senate_codes_and_the_senate_grammar_accepts_them(
    scwc_settings, senate_schema, house_schema, office
):
    xml = cwc.build_message(_delivery(office=office))

    assert _errors(senate_schema, xml) == ""
    assert "MemberOffice" in _errors(house_schema, xml)


def test_the_senate_grammar_refuses_house_codes_and_seat_indexes_from_zero(
    scwc_settings, senate_schema
):
    for office in ("HVA08", "SCA00", "SCA04"):
        xml = cwc.build_message(_delivery(office=office))
        assert "MemberOffice" in _errors(senate_schema, xml), office


def test_the_senate_topics_are_the_senate_grammars_list():
    grammar = etree.parse(str(data_path("cwc", "cwc_schema_v2_senate.rng")))
    ns = {"rng": "http://relaxng.org/ns/structure/1.0"}
    values = grammar.xpath(
        "//rng:element[@name='LibraryOfCongressTopic']//rng:value/text()", namespaces=ns
    )
    assert sorted(cwc.SENATE_TOPICS) == sorted(values)
    prefixes = grammar.xpath("//rng:element[@name='Prefix']//rng:value/text()", namespaces=ns)
    assert sorted(cwc.SENATE_PREFIXES) == sorted(prefixes)


# --- the Senate's rules, checked before a request --------------------------------------------


@pytest.mark.parametrize("prefix", ["", "Mx.", "Rev.", "Hon.", "mr."])
def test_a_prefix_the_senate_does_not_take_fails_with_the_reason_and_no_request(
    scwc_settings, scwc, prefix
):
    delivery = _delivery(prefix=prefix)

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    assert scwc.requests() == []
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "only the prefixes Mr., Mrs., Miss, Ms., Dr." in delivery.last_error


def test_a_topic_the_senate_does_not_file_under_fails_with_the_reason(scwc_settings, scwc):
    delivery = _delivery(topic="Foreign Relations")

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    assert scwc.requests() == []
    delivery.refresh_from_db()
    assert "topic “Foreign Relations”" in delivery.last_error


def test_the_rules_for_the_leads_form_and_campaign_checks():
    assert cwc.senate_prefix_problem("Dr.") is None
    assert "gave no prefix" in cwc.senate_prefix_problem("")
    assert cwc.senate_topic_problem("Health") is None
    assert cwc.senate_topic_problem("Healthcare")


def test_senate_reachable_only_for_listed_seats_with_scwc_configured(settings):
    settings.SENATE_CWC_URL = "https://scwc.example"
    settings.SENATE_CWC_API_KEY = SCWC_KEY
    SenateCwcOffice.objects.create(office_code="SNJ01", name="A", refreshed_at=timezone.now())
    SenateCwcOffice.objects.create(
        office_code="SNJ02", name="B", listed=False, refreshed_at=timezone.now()
    )
    listed, unlisted, house = _senator("SNJ01"), _senator("SNJ02"), _senator("HNJ06")

    assert cwc.senate_reachable(listed)
    assert not cwc.senate_reachable(unlisted)
    assert not cwc.senate_reachable(house)
    assert cwc.senate_reachable(listed, listed=frozenset({"SNJ01"}))
    settings.SENATE_CWC_API_KEY = ""
    assert not cwc.senate_reachable(listed)
    assert not cwc.senate_reachable(listed)


@pytest.mark.parametrize(("office", "sent"), [("SNJ02", True), ("SNJ01", False), ("SNJ00", False)])
def test_a_senators_office_code_must_name_their_own_seat(scwc_settings, scwc, office, sent):
    """A code off by one class would carry the message to the state's other senator."""
    senator = LegislatorFactory(state="NJ", chamber=Chamber.SENATE, district=None, senate_class=2)
    official = _senator(office, kind="legislator", legislator=senator)
    delivery = _delivery(official=official)

    outcome = delivery_send(delivery_id=delivery.id).outcome

    assert outcome == (Outcome.SENT if sent else Outcome.FAILED)
    assert len(scwc.requests()) == (1 if sent else 0)
    if not sent:
        delivery.refresh_from_db()
        assert f"office code {office} is not this senator's seat (SNJ02)" in delivery.last_error


# --- SCWC's answers ---------------------------------------------------------------------------


def test_a_409_is_a_resend_recognised_and_the_delivery_is_sent_once(scwc_settings, scwc):
    """The first answer is lost after SCWC kept the message; the retry meets a 409."""
    scwc.script(LoseAnswer())
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.RETRY
    _due_again(delivery)
    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT

    assert scwc.answers == [503, 409]
    assert list(scwc.accepted) == [delivery.id.hex]  # one message at the office
    ids = {SafeET.fromstring(r.body).findtext("Delivery/DeliveryId") for r in scwc.requests()}
    assert ids == {delivery.id.hex}
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.order_by("number")] == ["retry", "sent"]


def test_sending_the_same_delivery_twice_is_no_error(scwc_settings, scwc):
    delivery = _delivery()
    cwc.send(delivery)
    cwc.send(delivery)  # a worker killed between "sent" and "recorded" does this
    assert scwc.answers == [201, 409]
    assert len(scwc.accepted) == 1


def test_a_400_fails_with_the_offices_reasons(scwc_settings, scwc):
    scwc.script(Refuse("Invalid Zip for state", "Email domain rejected"))
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "Invalid Zip for state; Email domain rejected"
    assert scwc.accepted == {}


def test_a_message_the_grammar_refuses_fails_with_the_grammars_words(scwc_settings, scwc):
    delivery = _delivery(office="SCA00")  # not a Senate seat code

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    [(_, errors)] = scwc.invalid
    delivery.refresh_from_db()
    assert "MemberOffice" in errors
    assert "MemberOffice" in delivery.last_error


def test_a_415_fails_naming_the_content_type(scwc_settings, scwc):
    scwc.reply_with(Reply(415, "Unsupported Media Type"))
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    delivery.refresh_from_db()
    assert "content type (HTTP 415)" in delivery.last_error


def test_a_503_is_retried_and_then_sent(scwc_settings, scwc):
    scwc.script(Unavailable())
    delivery = _delivery()

    result = delivery_send(delivery_id=delivery.id)
    assert result.outcome == Outcome.RETRY
    assert result.retry_in > 0
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert "HTTP 503" in delivery.last_error

    _due_again(delivery)
    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT
    assert scwc.answers == [503, 201]
    assert list(scwc.accepted) == [delivery.id.hex]


def test_any_error_in_a_maintenance_window_is_deferred_not_failed(scwc_settings, scwc, clock):
    clock["at"] = dt.datetime(2025, 3, 9, 3, 30, tzinfo=EASTERN)  # a Sunday, 03:30 Eastern
    scwc.script(Refuse("Down for maintenance"))
    delivery = _delivery()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.RETRY

    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert "maintenance window" in delivery.last_error
    with pytest.raises(cwc.MaintenanceWindow) as caught:
        scwc.script(Unavailable())
        cwc.send(delivery)
    assert caught.value.resume_at == dt.datetime(2025, 3, 9, 6, 0, tzinfo=EASTERN)
    assert isinstance(caught.value, TransientError)

    clock["at"] = dt.datetime(2025, 3, 9, 6, 0, tzinfo=EASTERN)  # over
    _due_again(delivery)
    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT


@pytest.mark.parametrize(
    ("eastern", "in_window"),
    [
        (dt.datetime(2025, 3, 9, 0, 0, tzinfo=EASTERN), True),  # Sunday 00:00
        (dt.datetime(2025, 3, 9, 5, 59, tzinfo=EASTERN), True),
        (dt.datetime(2025, 3, 9, 6, 0, tzinfo=EASTERN), False),
        (dt.datetime(2025, 3, 8, 23, 59, tzinfo=EASTERN), False),  # Saturday
        (dt.datetime(2025, 3, 12, 4, 59, tzinfo=EASTERN), False),  # Wednesday
        (dt.datetime(2025, 3, 12, 5, 0, tzinfo=EASTERN), True),
        (dt.datetime(2025, 3, 12, 6, 59, tzinfo=EASTERN), True),
        (dt.datetime(2025, 3, 12, 7, 0, tzinfo=EASTERN), False),
        (dt.datetime(2025, 7, 13, 1, 0, tzinfo=EASTERN), True),  # a summer Sunday (EDT)
        (dt.datetime(2025, 7, 14, 1, 0, tzinfo=EASTERN), False),  # Monday
    ],
)
def test_maintenance_windows_are_read_in_eastern_time(eastern, in_window):
    moment = eastern.astimezone(dt.UTC)
    assert (cwc.maintenance_window_end(moment) is not None) == in_window


def test_without_configuration_a_senate_delivery_fails_clearly(settings, clock):
    settings.SENATE_CWC_URL = ""
    with pytest.raises(PermanentError, match="not configured"):
        cwc.send(_delivery())


def test_house_offices_still_go_to_the_house(settings, scwc, fresh_http_pool, clock):
    settings.CWC_API_URL = scwc.url
    settings.CWC_API_KEY = "house-key"
    settings.SENATE_CWC_URL = scwc.url
    settings.SENATE_CWC_API_KEY = SCWC_KEY
    settings.CWC_DELIVERY_AGENT_EMAIL = AGENT_EMAIL
    scwc.always(Reply(200))
    scwc.respond = None
    cwc.send(_delivery(office="HNJ06", prefix="Mx."))
    [request] = scwc.requests()
    assert request.path == "/v2/message"
    assert request.query == {"apikey": ["house-key"]}


# --- the rate limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("redis_url", ["shared", ""], ids=["redis", "per-process"])
def test_slots_are_spaced_by_the_rate_and_a_long_wait_is_refused(settings, redis_url):
    if not redis_url:
        settings.REDIS_URL = ""
    name = f"test:{time.monotonic_ns()}"
    waited = []
    for _ in range(5):
        waited.append(ratelimit.wait_for_slot(name, rate_per_second=4, sleep=lambda s: None))
    assert waited[0] == pytest.approx(0, abs=0.05)
    gaps = [b - a for a, b in itertools.pairwise(waited)]
    assert all(g == pytest.approx(0.25, abs=0.05) for g in gaps), waited
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.wait_for_slot(name, rate_per_second=4, max_wait=0.5, sleep=lambda s: None)
    # Nothing was reserved by the refusal: the next slot is where it was.
    assert ratelimit.wait_for_slot(name, rate_per_second=4, sleep=lambda s: None) == pytest.approx(
        1.25, abs=0.05
    )


def test_redis_keys_name_only_the_limiter(scwc_settings):
    import redis

    scwc_settings.SENATE_CWC_RATE_PER_SECOND = 4
    client = redis.Redis.from_url(scwc_settings.REDIS_URL)
    cwc.send(_delivery())
    keys = [k.decode() for k in client.scan_iter(match=f"{ratelimit.KEY_PREFIX}scwc:*")]
    assert keys
    assert all(len(k.split(":")[-1]) == 16 for k in keys)
    assert not any(SCWC_KEY in k or "@" in k for k in keys)


@pytest.fixture
def two_scwc_workers(django_db_setup, broker_queue, scwc):
    workers = [
        CeleryWorker(
            worker_env(
                SENATE_CWC_URL=scwc.url,
                SENATE_CWC_API_KEY=SCWC_KEY,
                CWC_DELIVERY_AGENT_EMAIL=AGENT_EMAIL,
                SENATE_CWC_RATE_PER_SECOND="4",
                DELIVERY_BATCH_SIZE="1",
            ),
            concurrency=2,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            worker.start(timeout=30)
        yield workers
    finally:
        for worker in workers:
            worker.stop()


MESSAGES = 30


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_together_keep_under_the_rate(settings, scwc, two_scwc_workers):
    settings.SENATE_CWC_URL = scwc.url
    settings.DELIVERY_BATCH_SIZE = 1  # a task per delivery: all four processes send at once
    campaign = CampaignFactory(cwc_topic="International Affairs")
    seats = [_senator("SNJ01"), _senator("SNJ02"), _senator("SCA03")]
    deliveries = [
        DeliveryFactory(
            action=ActionFactory(campaign=campaign, prefix="Dr."),
            official=seats[n % 3],
            subject="Protect civilians now",
        )
        for n in range(MESSAGES)
    ]

    started = time.time()
    assert deliveries_enqueue(delivery_ids=[d.id for d in deliveries]) == MESSAGES
    wait_until(lambda: len(scwc.accepted) >= MESSAGES, timeout=60, message="30 messages at SCWC")
    wait_until(
        lambda: Delivery.objects.filter(status=Status.SENT).count() == MESSAGES,
        timeout=30,
        message="30 deliveries sent",
    )

    arrivals = sorted(scwc.arrivals())
    assert scwc.invalid == []
    assert len(arrivals) == MESSAGES  # no retries were needed: nobody was refused a slot
    per_second = collections.Counter(int(t) for t in arrivals)
    sliding = max(
        sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals
    )  # the busiest second, wherever it starts
    print(
        f"SCWC arrivals per second with 2 workers x 2 processes: "
        f"{[per_second[s] for s in sorted(per_second)]}, busiest sliding second {sliding}, "
        f"{MESSAGES} in {arrivals[-1] - arrivals[0]:.2f}s (first {arrivals[0] - started:.2f}s "
        f"after enqueue)"
    )
    assert max(per_second.values()) <= 5
    assert sliding <= 5
    # Every process took part, and the limit was what held them back.
    assert arrivals[-1] - arrivals[0] >= (MESSAGES - 1) / 4 - 0.5
    served = [w.log().count("succeeded in") for w in two_scwc_workers]
    assert all(served), served
