"""How close does the delivery pipeline come to raw SMTP?

    .venv/bin/python -m bench.delivery [--messages 10000] [--workers 2] [--pool prefork|solo]
                                       [--repeat 2]

In one run: (1) the ceiling: the same messages sent by a plain smtplib loop over one
connection to a loopback aiosmtpd sink; (2) the pipeline: the messages as queued deliveries,
sent by a real Celery worker (prefork, N processes) through Redis and PostgreSQL to the same
kind of sink. Ceiling and pipeline take turns, --repeat times (and the ceiling once more at the
end); each keeps its best time, as timeit does, since what makes a run slower is other work
on the machine. Prints every time, both best rates and their ratio.
"""

import argparse
import os
import smtplib
import time
import uuid

from bench import _django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pool",
        choices=["prefork", "solo"],
        default="prefork",
        help="prefork: one worker with N pool processes; solo: N single-process workers.",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, best kept")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    os.environ["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    _django.setup()

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from alerts.delivery.channels.email import build_message
    from alerts.models import Action, Attempt, Delivery
    from alerts.tasks import deliveries_enqueue
    from legislators.models import Official
    from tests.support.processes import CeleryWorker, worker_env
    from tests.support.smtp import SmtpSink

    # --- data: one campaign, messages / 5 actions, 5 email officials --------------------------
    Delivery.objects.all().delete()
    Action.objects.all().delete()
    campaign = _django.bench_campaign("bench")
    officials = [
        Official.objects.update_or_create(
            key=f"bench-{n}",
            defaults={
                "kind": "executive",
                "title": "Secretary",
                "name": f"Bench Official {n}",
                "last_name": f"Official{n}",
                "channel": "email",
                "email": f"office{n}@officials.example",
            },
        )[0]
        for n in range(5)
    ]
    now = timezone.now()
    actions = Action.objects.bulk_create(
        Action(
            campaign=campaign,
            first_name="Bench",
            last_name=f"Constituent {n}",
            email=f"bench{n}@example.org",
            street="1 Main St",
            city="Springfield",
            state="VA",
            zip_code="22201",
            subject="Benchmark message",
            message="Please act.",
            consent_text="yes",
            referral_code=uuid.uuid4().hex[:12],
        )
        for n in range(args.messages // len(officials))
    )
    body = "Dear Secretary,\n\n" + "Please act on this benchmark. " * 20 + "\n"
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            action=action,
            official=official,
            channel="email",
            status="queued",
            queued_at=now,
            variant="executive",
            subject="Benchmark message",
            organization_statement="Please act.",
            body=body,
        )
        for action in actions
        for official in officials
    )
    count = len(deliveries)

    # --- ceiling: plain smtplib over one connection -------------------------------------------
    raw = []
    by_action = {a.pk: a for a in actions}
    for delivery in deliveries:
        delivery.action = by_action[delivery.action_id]
        message = build_message(delivery, to=delivery.official.email).message()
        raw.append((delivery.official.email, message.as_bytes()))

    def ceiling_seconds():
        sink = SmtpSink().start()
        start = time.perf_counter()
        with smtplib.SMTP(sink.host, sink.port, timeout=30) as smtp:
            for to, data in raw:
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], data)
        seconds = time.perf_counter() - start
        sink.wait_for(count, timeout=60)
        sink.stop()
        return seconds

    # --- the pipeline: real worker, Redis, PostgreSQL, SMTP -----------------------------------
    def pipeline_seconds():
        Attempt.objects.all().delete()
        Delivery.objects.update(status="queued", attempts=0, sent_at=None, enqueued_at=None)
        with connection.cursor() as cursor:  # each run starts from a clean table
            cursor.execute(f"VACUUM ANALYZE {Delivery._meta.db_table}, {Attempt._meta.db_table}")
        sink = SmtpSink().start()
        log_level = os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING")
        env = worker_env(EMAIL_URL=sink.url, LOG_LEVEL=log_level)
        if args.pool == "solo":
            workers = [
                CeleryWorker(env, concurrency=1, pool="solo", loglevel=log_level)
                for _ in range(args.workers)
            ]
        else:
            workers = [CeleryWorker(env, concurrency=args.workers, loglevel=log_level)]
        deliveries_enqueue(delivery_ids=[str(d.id) for d in deliveries])
        for worker in workers:
            worker.start()
        start = time.perf_counter()
        try:
            sink.wait_for(count, timeout=args.timeout)
            seconds = time.perf_counter() - start
            deadline = time.monotonic() + 60
            while (
                Delivery.objects.filter(status="sent").count() < count
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            sent = Delivery.objects.filter(status="sent").count()
        finally:
            for worker in workers:
                worker.stop()
            sink.stop()
        return seconds, sent

    ceilings, runs = [], []
    for _ in range(args.repeat):
        ceilings.append(ceiling_seconds())
        runs.append(pipeline_seconds())
    ceilings.append(ceiling_seconds())

    def times(seconds):
        return ", ".join(f"{s:.1f}" for s in seconds)

    ceiling_rate = count / min(ceilings)
    rate = count / min(seconds for seconds, _ in runs)
    marked = min(sent for _, sent in runs)
    print(f"{count} messages to a loopback aiosmtpd sink, best of each (all times in seconds)")
    print(f"  ceiling  (smtplib, one connection): {ceiling_rate:8.0f} msg/s  ({times(ceilings)})")
    print(
        f"  pipeline ({args.workers} {args.pool} processes, Redis, PostgreSQL): {rate:8.0f} msg/s  "
        f"({times(seconds for seconds, _ in runs)}; {marked}/{count} marked sent)  "
        f"ratio {rate / ceiling_rate:.2f}"
    )


if __name__ == "__main__":
    main()
