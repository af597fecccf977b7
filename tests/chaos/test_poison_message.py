"""A poison message: a delivery whose sending kills the worker process every time (here the mail
server kills whichever of the worker's processes names its recipient: SIGKILL, as an
out-of-memory kill or a crash in a C library would). Each death costs the delivery one attempt,
found by the sweep when its lease runs out; at the cap it ends `failed` and the constituent is
told. Meanwhile the worker (a new pool process each time) goes on delivering everyone else's."""

import os
import signal
import time

import pytest

from alerts.models import Delivery
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.forms import submit_actions
from tests.support.processes import wait_until
from tests.support.smtp import SmtpSink

from .conftest import elapsed

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

POISON = "poison@officials.example"
ATTEMPTS = 3  # the cap for this test; each attempt costs a lease (3 s) and a sweep (1 s)
ACTIONS = 10


def _socket_inode(local_port: int) -> str | None:
    """The inode of the loopback TCP socket whose local port is `local_port`."""
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            address, port = fields[1].split(":")
            if address == "0100007F" and int(port, 16) == local_port:
                return fields[9]
    return None


def _owner(inode: str, pids) -> int | None:
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return None


class PoisonSink(SmtpSink):
    """Kills the worker process that names POISON as a recipient; only processes of the worker
    in `self.worker` (its pool), never any other."""

    worker = None

    def __init__(self, **options):
        super().__init__(**options)
        self.kills: list[int] = []

    def on_rcpt(self, address, peer):
        if address != POISON or self.worker is None:
            return
        inode = _socket_inode(peer[1])
        pid = inode and _owner(inode, self.worker.pool_pids())
        if pid:
            os.kill(pid, signal.SIGKILL)
            self.kills.append(pid)


def test_a_delivery_that_kills_its_worker_every_time_fails_at_the_cap_and_others_flow(
    chaos_campaign, email_officials, start_worker, make_sink
):
    began = time.monotonic()
    sink = make_sink(PoisonSink)
    worker = start_worker(
        email_url=sink.url,
        concurrency=2,
        DELIVERY_MAX_ATTEMPTS=ATTEMPTS,
        DELIVERY_LEASE_SECONDS=3,
    )
    sink.worker = worker
    poisoned = OfficialFactory(email=POISON, title="Secretary", name="Pat Poison")
    poison_campaign = CampaignFactory(
        targets=[poisoned], double_opt_in=False, target_congress=False
    )
    [poison_action] = submit_actions(poison_campaign, [poisoned], 1, tag="poison")
    poison = Delivery.objects.get(official=poisoned)

    try:
        wait_until(lambda: sink.kills, timeout=30, message="the poison delivery's first kill")
    except TimeoutError as exc:
        poison.refresh_from_db()
        raise AssertionError(
            f"{exc}; the delivery is {poison.status}, the pool {worker.pool_pids()}\n"
            + worker.log()[-3000:]
        ) from exc

    # Others' deliveries, submitted while the poison delivery goes round: all sent, once each,
    # before it is done with (the cap is minutes of leases away on a real worker; seconds here).
    others_at = time.monotonic()
    submit_actions(chaos_campaign, email_officials, ACTIONS)
    others = Delivery.objects.exclude(pk=poison.pk)
    expected = ACTIONS * len(email_officials)

    def others_sent():
        assert worker.process.poll() is None, worker.log()[-3000:]
        return others.filter(status=Delivery.Status.SENT).count() == expected

    wait_until(others_sent, timeout=30, interval=0.25, message=f"{expected} others sent")
    others_took = elapsed(others_at)
    poison.refresh_from_db()
    assert poison.status != Delivery.Status.FAILED, "the poison ran out first: nothing shown"
    kills_meanwhile = len(sink.kills)

    def poison_failed():
        assert worker.process.poll() is None, worker.log()[-3000:]
        return Delivery.objects.filter(pk=poison.pk, status=Delivery.Status.FAILED).exists()

    wait_until(poison_failed, timeout=60, interval=0.25, message="the poison delivery failed")
    poison.refresh_from_db()
    assert poison.attempts == ATTEMPTS
    assert f"gave up after {ATTEMPTS} attempts" in poison.last_error, poison.last_error
    assert len(sink.kills) == ATTEMPTS  # one death per attempt, none after the cap
    assert len(set(sink.kills)) == ATTEMPTS  # a new pool process each time

    # Told once, like any failed delivery; and never received by the poisoned address.
    wait_until(
        lambda: [m for m in sink.messages() if m.rcpt_tos == [poison_action.email]],
        timeout=20,
        message="the failure notice",
    )
    assert not [m for m in sink.messages() if POISON in m.rcpt_tos]
    counts = sink.message_id_counts()
    assert {d.message_id for d in others} <= set(counts)
    assert {counts[d.message_id] for d in others} == {1}  # each other delivery sent once
    assert worker.process.poll() is None
    print(
        f"\n{expected} others sent in {others_took} while the poison delivery killed "
        f"{kills_meanwhile} pool process(es); it failed after {len(sink.kills)} kills; "
        f"took {elapsed(began)}"
    )
