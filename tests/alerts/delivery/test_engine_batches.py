"""A delivery task carries a batch of delivery ids: each is claimed, sent and recorded on its
own, with the PostgreSQL ledger (one statement per delivery, sent ahead on a connection of its
own) and the ORM one alike."""

import datetime as dt
import json

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, IntegrityError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.delivery import ahead
from alerts.delivery import engine as delivery_module
from alerts.delivery.engine import Outcome, deliveries_send
from alerts.delivery.ledger import OrmLedger, Pending, Sent, StatementLedger, read_due
from alerts.models import Attempt, Delivery
from alerts.services import deliveries_retry
from alerts.tasks import deliver, deliveries_enqueue
from tests.factories import ActionFactory, DeliveryFactory, OfficialFactory
from tests.support.broker import published_tasks
from tests.support.interruptions import CutOff, cut_off_at_call
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db

Status = Delivery.Status


@pytest.fixture(params=[StatementLedger, OrmLedger], ids=["postgres", "orm"])
def ledger_class(request, monkeypatch):
    """Both ledgers, on the same cases: SQLite installs run the ORM one."""
    monkeypatch.setattr(delivery_module, "ledger", request.param)
    return request.param


def _email_deliveries(count):
    action = ActionFactory()
    return [
        DeliveryFactory(action=action, official=OfficialFactory(email=f"office{n}@gov.example"))
        for n in range(count)
    ]


def _ids(deliveries):
    return [str(d.id) for d in deliveries]


def test_a_batch_sends_each_delivery_once_and_records_each_attempt(
    ledger_class, smtp_settings, smtp_sink
):
    deliveries = _email_deliveries(4)

    results = deliveries_send(delivery_ids=_ids(deliveries))

    assert results == {pk: delivery_module.Result(Outcome.SENT) for pk in _ids(deliveries)}
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages()) == sorted(
        d.official.email for d in deliveries
    )
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.lease_expires_at) == (
            Status.SENT,
            1,
            None,
        )
        [attempt] = delivery.attempt_log.all()
        assert (attempt.number, attempt.outcome, attempt.channel) == (1, "sent", "email")
        assert attempt.started_at <= attempt.finished_at == delivery.sent_at
    assert deliveries_send(delivery_ids=_ids(deliveries)) == {
        pk: delivery_module.Result(Outcome.SKIPPED) for pk in _ids(deliveries)
    }
    assert len(smtp_sink.messages()) == 4


def test_one_refused_recipient_fails_alone(ledger_class, smtp_settings, smtp_sink):
    first, refused, last = _email_deliveries(3)
    smtp_sink.rcpt_reply_for = lambda address: (
        "550 5.1.1 no such user" if address == refused.official.email else None
    )

    results = deliveries_send(delivery_ids=_ids([first, refused, last]))

    assert [results[pk].outcome for pk in _ids([first, refused, last])] == [
        Outcome.SENT,
        Outcome.FAILED,
        Outcome.SENT,
    ]
    statuses = dict(Delivery.objects.values_list("id", "status"))
    assert [statuses[d.id] for d in (first, refused, last)] == ["sent", "failed", "sent"]
    assert Attempt.objects.get(delivery=refused).outcome == Attempt.Outcome.FAILED
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages()) == sorted(
        [first.official.email, last.official.email]
    )


WHILE_SENDING = [
    ["sending", "sending", "queued", "queued"],
    ["sent", "sending", "sending", "queued"],
    ["sent", "sent", "sending", "sending"],
    ["sent", "sent", "sent", "sending"],
]


def _send_watching_statuses(monkeypatch, deliveries):
    """Send `deliveries`; while each is being sent, wait until the write sent before it has
    landed (the one before recorded, the one after claimed) and return what was seen then."""
    seen = []

    def sender(delivery):
        def send(delivery):
            expected = WHILE_SENDING[len(seen)]

            def statuses():
                by_id = dict(Delivery.objects.values_list("id", "status"))
                return [by_id[d.pk] for d in deliveries]

            wait_until(lambda: statuses() == expected, timeout=10, message=f"{expected}")
            seen.append(statuses())

        return send

    monkeypatch.setattr(delivery_module, "_sender", sender)
    deliveries_send(delivery_ids=_ids(deliveries))
    return seen


def test_while_one_is_sent_the_one_before_is_recorded_and_the_one_after_claimed(
    ledger_class, monkeypatch, smtp_settings
):
    deliveries = read_due([d.pk for d in _email_deliveries(4)])  # in the order they are sent

    assert _send_watching_statuses(monkeypatch, deliveries) == WHILE_SENDING
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db(transaction=True)  # autocommit, as a worker runs: the writes go ahead
def test_writes_sent_ahead_land_while_the_next_message_is_sent(monkeypatch, smtp_settings):
    deliveries = read_due([d.pk for d in _email_deliveries(4)])

    assert _send_watching_statuses(monkeypatch, deliveries) == WHILE_SENDING
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_deliveries_not_due_or_not_queued_are_skipped(ledger_class, smtp_settings, smtp_sink):
    due, parked, sent = _email_deliveries(3)
    Delivery.objects.filter(pk=parked.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    Delivery.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=timezone.now())

    results = deliveries_send(delivery_ids=_ids([due, parked, sent]))

    assert {pk: r.outcome for pk, r in results.items()} == {
        str(due.pk): Outcome.SENT,
        str(parked.pk): Outcome.SKIPPED,
        str(sent.pk): Outcome.SKIPPED,
    }
    assert [m.rcpt_tos[0] for m in smtp_sink.messages()] == [due.official.email]


def test_a_batch_out_of_time_leaves_the_rest_queued_and_unclaimed(
    ledger_class, smtp_settings, smtp_sink
):
    deliveries = _email_deliveries(3)

    results = deliveries_send(delivery_ids=_ids(deliveries), budget_seconds=0)

    outcomes = [results[pk].outcome for pk in _ids(deliveries)]
    assert outcomes.count(Outcome.SENT) == 1  # the first is always started
    assert outcomes.count(Outcome.DEFERRED) == 2
    for delivery in deliveries:
        delivery.refresh_from_db()
        if results[str(delivery.pk)].outcome == Outcome.DEFERRED:
            assert (delivery.status, delivery.attempts) == (Status.QUEUED, 0)
            assert not delivery.attempt_log.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"status": Status.SENDING},  # another worker claimed it
        {"attempts": 1},  # claimed, tried and queued again since it was read
        {"next_attempt_at": timezone.now() + dt.timedelta(hours=1)},  # parked since
    ],
    ids=["claimed", "retried", "parked"],
)
def test_a_claim_needs_the_row_as_it_was_read(ledger_class, change):
    delivery = DeliveryFactory()
    [read] = read_due([delivery.pk])
    Delivery.objects.filter(pk=delivery.pk).update(**change)

    assert ledger_class().claim(read) is None

    assert not Attempt.objects.exists()
    delivery.refresh_from_db()
    assert delivery.attempts == change.get("attempts", 0)


def test_recording_a_send_and_claiming_the_next_go_together(ledger_class):
    sent, following = read_due([DeliveryFactory().pk, DeliveryFactory().pk])
    book = ledger_class()
    attempt_id = book.claim(sent)

    next_attempt_id = book.claim(following, after_sent=Sent(sent, attempt_id))

    sent.refresh_from_db()
    following.refresh_from_db()
    assert (sent.status, following.status) == (Status.SENT, Status.SENDING)
    assert Attempt.objects.get(pk=attempt_id).outcome == Attempt.Outcome.SENT
    begun = Attempt.objects.get(pk=next_attempt_id)
    assert (begun.delivery_id, begun.number, begun.outcome) == (following.pk, 1, "")
    assert following.lease_expires_at > timezone.now()


def test_a_send_whose_lease_was_taken_back_is_not_recorded_over_the_new_state(ledger_class):
    [delivery] = read_due([DeliveryFactory().pk])
    book = ledger_class()
    attempt_id = book.claim(delivery)
    # The sweep decided this attempt was dead and queued the delivery again.
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.QUEUED)

    book.record_sent(Sent(delivery, attempt_id))

    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert Attempt.objects.get(pk=attempt_id).outcome == ""


def test_a_late_record_leaves_the_next_workers_claim_alone(ledger_class):
    [delivery] = read_due([DeliveryFactory().pk])
    book = ledger_class()
    ours = book.claim(delivery)
    # Our lease ran out; the sweep queued the delivery again and another worker claimed it.
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.QUEUED)
    [again] = read_due([delivery.pk])
    theirs = ledger_class().claim(again)

    book.record_sent(Sent(delivery, ours))

    fresh = Delivery.objects.get(pk=delivery.pk)
    assert (fresh.status, fresh.attempts) == (Status.SENDING, 2)  # still theirs to record
    assert list(Attempt.objects.filter(pk__in=[ours, theirs]).values_list("number", "outcome")) == [
        (1, ""),
        (2, ""),
    ]


def test_a_release_undoes_only_its_own_claim(ledger_class):
    [delivery] = read_due([DeliveryFactory().pk])
    book = ledger_class()
    ours = book.claim(delivery)

    assert book.release(delivery, ours)
    assert not book.release(delivery, ours)  # twice: nothing more
    fresh = Delivery.objects.get(pk=delivery.pk)
    assert (fresh.status, fresh.attempts, fresh.attempt_log.count()) == (Status.QUEUED, 0, 0)

    # Another worker claims it again, at the same attempt count ours had: still theirs.
    [again] = read_due([delivery.pk])
    theirs = ledger_class().claim(again)
    assert not book.release(delivery, ours)
    fresh = Delivery.objects.get(pk=delivery.pk)
    assert (fresh.status, list(fresh.attempt_log.values_list("pk", flat=True))) == (
        Status.SENDING,
        [theirs],
    )


@pytest.mark.parametrize("retry_fails", [False, True], ids=["retried", "retry fails too"])
def test_a_failed_write_tries_its_record_once_more_alone(ledger_class, monkeypatch, retry_fails):
    [delivery] = read_due([DeliveryFactory().pk])
    book = ledger_class()
    sent = Sent(delivery, book.claim(delivery))
    write, retries = ledger_class.write, []

    def fail():
        raise OperationalError("deadlock detected")

    def write_or_fail(self, *, claim=None, after_sent=None, retry=True):
        retries.append(retry)
        if retry_fails:
            return Pending(self, claim, after_sent, fail, retry=retry)
        return write(self, claim=claim, after_sent=after_sent, retry=retry)

    monkeypatch.setattr(ledger_class, "write", write_or_fail)

    with pytest.raises(OperationalError):
        Pending(book, None, sent, fail, retry=True).result()

    assert retries == [False]  # once, and that one is not retried in its turn
    delivery.refresh_from_db()
    assert delivery.status == (Status.SENDING if retry_fails else Status.SENT)


def test_an_operator_retry_continues_the_attempt_history(ledger_class, smtp_settings, smtp_sink):
    delivery = DeliveryFactory()
    smtp_sink.rcpt_reply_for = lambda address: "550 5.1.1 no such user"
    deliveries_send(delivery_ids=[str(delivery.pk)])
    smtp_sink.rcpt_reply_for = lambda address: None
    assert Delivery.objects.get(pk=delivery.pk).status == Status.FAILED

    assert deliveries_retry(delivery_ids=[delivery.pk]) == 1  # attempts left: all of them again
    results = deliveries_send(delivery_ids=[str(delivery.pk)])

    assert results[str(delivery.pk)].outcome == Outcome.SENT
    history = list(delivery.attempt_log.values_list("number", "outcome"))
    assert history == [(1, "failed"), (2, "sent")]
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1


def test_a_batch_on_postgresql_costs_one_statement_per_delivery(smtp_settings, smtp_sink):
    deliveries = _email_deliveries(5)

    with CaptureQueriesContext(connection) as queries:
        deliveries_send(delivery_ids=_ids(deliveries))

    # The deliveries with their actions and officials, their campaigns, then per delivery one
    # statement (claim it, and record the send before the last), and the last two sends'
    # records.
    assert len(queries) == 2 + 5 + 2, [q["sql"][:60] for q in queries]
    assert Delivery.objects.filter(status=Status.SENT).count() == 5


@pytest.mark.django_db(transaction=True)  # autocommit: the failed statement fails alone
@pytest.mark.parametrize("sent_before", [1, 2], ids=["one sent", "two sent"])
def test_a_database_error_ends_the_batch_but_not_the_records_of_the_sends_before(
    ledger_class, monkeypatch, smtp_settings, smtp_sink, sent_before
):
    deliveries = _email_deliveries(sent_before + 2)
    sent, (refused, untouched) = deliveries[:sent_before], deliveries[sent_before:]
    read = delivery_module.read_due

    def read_then_take_the_attempt_number(ids):
        # Once read, an attempt numbered 1 appears for `refused`: its claim, which begins
        # attempt 1, breaks the unique constraint. With two sent, that statement also carries
        # the first send's record, which must then be made on its own.
        due = read(ids)
        Attempt.objects.create(
            delivery=refused, number=1, channel="email", started_at=timezone.now()
        )
        return due

    monkeypatch.setattr(delivery_module, "read_due", read_then_take_the_attempt_number)

    with pytest.raises(IntegrityError):
        deliveries_send(delivery_ids=_ids(deliveries))

    statuses = dict(Delivery.objects.values_list("id", "status"))
    assert [statuses[d.id] for d in deliveries] == ["sent"] * sent_before + ["queued"] * 2
    assert [Attempt.objects.get(delivery=d).outcome for d in sent] == ["sent"] * sent_before
    assert list(Attempt.objects.filter(delivery__in=[refused, untouched])) == [
        Attempt.objects.get(delivery=refused, number=1)
    ]
    assert len(smtp_sink.messages()) == sent_before


@pytest.mark.django_db(transaction=True)  # autocommit, as a worker runs
def test_error_records_wait_for_the_write_on_its_way(
    ledger_class, monkeypatch, smtp_settings, smtp_sink
):
    deliveries = _email_deliveries(5)
    refused, busy, broken = deliveries[1:4]
    replies = {refused.official.email: "550 5.1.1 no such user", busy.official.email: "451 busy"}
    smtp_sink.rcpt_reply_for = replies.get
    send = delivery_module._sender
    monkeypatch.setattr(
        delivery_module,
        "_sender",
        lambda d: (lambda d: {}["a bug"]) if d.pk == broken.pk else send(d),
    )

    results = deliveries_send(delivery_ids=_ids(deliveries))

    assert [results[pk].outcome for pk in _ids(deliveries)] == [
        Outcome.SENT,
        Outcome.FAILED,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.SENT,
    ]
    statuses = dict(Delivery.objects.values_list("id", "status"))
    assert [statuses[d.id] for d in deliveries] == ["sent", "failed", "queued", "queued", "sent"]


@pytest.mark.django_db(transaction=True)  # autocommit, as a worker runs: the writes go ahead
def test_the_soft_time_limit_while_waiting_for_the_database_loses_no_record(
    monkeypatch, smtp_settings, smtp_sink
):
    deliveries = _email_deliveries(3)
    # The third answer awaited: for third's claim, with first's record.
    cut = cut_off_at_call(3, ahead.Answer.result, raising=SoftTimeLimitExceeded)
    monkeypatch.setattr(ahead.Answer, "result", cut)

    with pytest.raises(SoftTimeLimitExceeded):
        deliveries_send(delivery_ids=_ids(deliveries))

    # PostgreSQL finished what it was sent (first's record, third's claim); second's record,
    # which had not left, was made after it. Third waits for its lease.
    def statuses():
        by_id = dict(Delivery.objects.values_list("id", "status"))
        return [by_id[d.id] for d in deliveries]

    wait_until(
        lambda: statuses() == ["sent", "sent", "sending"], timeout=10, message="the statuses"
    )
    assert len(smtp_sink.messages()) == 2


@pytest.mark.django_db(transaction=True)  # autocommit, as a worker runs: the writes go ahead
def test_a_batch_cut_off_before_a_send_began_releases_that_claim(
    monkeypatch, smtp_settings, smtp_sink
):
    first, following = _email_deliveries(2)
    # The second statement sent: the claim of `following`, made ahead.
    monkeypatch.setattr(ahead.Statement, "start", cut_off_at_call(2, ahead.Statement.start))

    with pytest.raises(CutOff):
        deliveries_send(delivery_ids=_ids([first, following]))

    first.refresh_from_db()  # claimed, never sent: released
    assert (first.status, first.attempts, first.attempt_log.count()) == (Status.QUEUED, 0, 0)
    assert smtp_sink.messages() == []


def test_a_batch_ended_by_an_error_releases_the_claim_it_made_ahead(
    ledger_class, monkeypatch, smtp_settings, smtp_sink
):
    refused, following = _email_deliveries(2)
    smtp_sink.rcpt_reply_for = lambda address: "550 5.1.1 no such user"

    def cannot_record(delivery, attempt_id, exc):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(delivery_module, "_after_error", cannot_record)

    with pytest.raises(DatabaseError):
        deliveries_send(delivery_ids=_ids([refused, following]))

    following.refresh_from_db()
    assert (following.status, following.attempts) == (Status.QUEUED, 0)
    assert not following.attempt_log.exists()


def test_an_unexpected_error_retries_that_delivery_and_the_rest_go_on(
    ledger_class, monkeypatch, smtp_settings, smtp_sink, caplog
):
    first, broken, last = _email_deliveries(3)
    send = delivery_module._sender

    def sender(delivery):
        if delivery.pk == broken.pk:
            return lambda d: {}[d.action.email]  # a bug whose message quotes personal data
        return send(delivery)

    monkeypatch.setattr(delivery_module, "_sender", sender)

    results = deliveries_send(delivery_ids=_ids([first, broken, last]))

    assert [results[pk].outcome for pk in _ids([first, broken, last])] == [
        Outcome.SENT,
        Outcome.RETRY,
        Outcome.SENT,
    ]
    broken.refresh_from_db()
    assert (broken.status, broken.last_error) == (Status.QUEUED, "unexpected KeyError")
    assert broken.next_attempt_at > timezone.now()
    assert "unexpected KeyError" in caplog.text
    assert broken.action.email not in caplog.text


def test_the_soft_time_limit_retries_the_send_it_cut_and_hands_back_the_rest(
    ledger_class, monkeypatch, smtp_settings, smtp_sink
):
    cut, later, last = _email_deliveries(3)

    def out_of_time(delivery):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(delivery_module, "_sender", lambda d: out_of_time)

    results = deliveries_send(delivery_ids=_ids([cut, later, last]))

    assert [results[pk].outcome for pk in _ids([cut, later, last])] == [
        Outcome.RETRY,
        Outcome.DEFERRED,
        Outcome.DEFERRED,
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.QUEUED}
    # `later` had been claimed while `cut` was being sent: that claim is undone, not spent.
    later.refresh_from_db()
    assert (later.attempts, later.attempt_log.count()) == (0, 0)


def test_enqueue_hands_ids_over_in_batches(settings, broker_queue):
    settings.DELIVERY_BATCH_SIZE = 2
    deliveries = _email_deliveries(5)

    assert deliveries_enqueue(delivery_ids=[d.id for d in deliveries]) == 5

    tasks = published_tasks(broker_queue)
    assert [task for task, _ in tasks] == ["alerts.deliver"] * 3
    assert [ids for _, (ids,) in tasks] == [
        _ids(deliveries[0:2]),
        _ids(deliveries[2:4]),
        _ids(deliveries[4:]),
    ]
    assert Delivery.objects.filter(enqueued_at__isnull=True).count() == 0


def test_web_form_deliveries_go_to_the_browser_workers_queue(settings, broker_queue):
    action = ActionFactory()
    by_mail = DeliveryFactory(action=action)
    by_browser = DeliveryFactory(
        action=action,
        channel="web_form",
        official=OfficialFactory(channel="web_form", contact_form_url="https://o.example/c"),
    )
    redis_client, _ = broker_queue
    redis_client.delete(settings.WEB_FORM_QUEUE)

    assert deliveries_enqueue(delivery_ids=[by_mail.id, by_browser.id]) == 2

    assert published_tasks(broker_queue) == [("alerts.deliver", [[str(by_mail.id)]])]
    browser_queue = (redis_client, settings.WEB_FORM_QUEUE)
    assert published_tasks(browser_queue) == [("alerts.deliver", [[str(by_browser.id)]])]
    redis_client.delete(settings.WEB_FORM_QUEUE)


def test_the_task_hands_back_what_its_batch_had_no_time_for(
    settings, smtp_settings, smtp_sink, broker_queue
):
    settings.DELIVERY_BATCH_SECONDS = 0
    deliveries = _email_deliveries(3)

    outcomes = deliver.apply(args=[_ids(deliveries)]).get()

    deferred = [pk for pk, outcome in outcomes.items() if outcome == Outcome.DEFERRED]
    assert len(deferred) == 2
    assert published_tasks(broker_queue) == [("alerts.deliver", [deferred])]
    assert len(smtp_sink.messages()) == 1


def test_the_task_hands_its_short_retries_back_as_one_task_when_the_last_is_due(
    settings, smtp_settings, smtp_sink, broker_queue
):
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    smtp_sink.reply_for = lambda envelope: "421 4.3.2 try later"
    deliveries = _email_deliveries(3)

    outcomes = deliver.apply(args=[_ids(deliveries)]).get()

    assert set(outcomes.values()) == {Outcome.RETRY}
    assert published_tasks(broker_queue) == [("alerts.deliver", [_ids(deliveries)])]
    redis_client, queue = broker_queue
    [raw] = redis_client.lrange(queue, 0, -1)
    latest = max(d.next_attempt_at for d in Delivery.objects.all())
    eta = dt.datetime.fromisoformat(json.loads(raw)["headers"]["eta"])
    assert abs((eta - latest).total_seconds()) < 1
