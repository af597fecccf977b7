"""The one door to the broker: Celery tasks, thin wrappers that take ids only (so no personal
data passes the broker) and call one function each, and `enqueue`, the only publisher.

A broker that refuses, or does not answer within its connection timeouts, costs that wait and
no more: the rows are committed already, and the periodic sweep hands them over later."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError

from .delivery.engine import (
    Outcome,
    actions_to_tell,
    deliveries_by_browser,
    deliveries_handed_over,
    deliveries_send,
    deliveries_sweep,
)
from .lifecycle import campaigns_advance
from .notifications import confirmation_send, constituent_notices_send, reminders_send
from .privacy import personal_data_purge

logger = logging.getLogger(__name__)

MAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def enqueue(task, *args, countdown: float | None = None, queue: str | None = None) -> bool:
    """Publish `task(*args)`; False when the broker is unavailable (what it was for stays in
    the database for the sweep)."""
    try:
        # Ids only, so their repr is what Celery's saferepr would show, at a fraction of its
        # cost: a submit publishes under a blast.
        task.apply_async(
            args, countdown=countdown, queue=queue, argsrepr=repr(args), kwargsrepr="{}"
        )
    except OperationalError:
        logger.warning("broker unavailable; %s left for the sweep", task.name)
        return False
    return True


def deliveries_enqueue(*, delivery_ids, countdown: float | None = None, web_form_ids=None) -> int:
    """Hand delivery ids (and nothing else) to the broker, DELIVERY_BATCH_SIZE to a task, and
    record when. Web-form deliveries go to their own queue, whose browser workers never hold up
    email and CWC (`web_form_ids`, when the caller knows them, saves a query). Returns how many
    were handed over."""
    delivery_ids = [str(delivery_id) for delivery_id in delivery_ids]
    if web_form_ids is None:
        web_form_ids = deliveries_by_browser(delivery_ids=delivery_ids)
    by_browser = {str(pk) for pk in web_form_ids}
    size = settings.DELIVERY_BATCH_SIZE
    handed = []
    for queue, ids in (
        (None, [pk for pk in delivery_ids if pk not in by_browser]),
        (settings.WEB_FORM_QUEUE, [pk for pk in delivery_ids if pk in by_browser]),
    ):
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            if not enqueue(deliver, batch, countdown=countdown, queue=queue):
                break
            handed += batch
    if handed:
        deliveries_handed_over(delivery_ids=handed)
    return len(handed)


def enqueue_each(task, ids) -> int:
    """`task(id)` for each id, until the broker fails; returns how many were published."""
    published = 0
    for pk in ids:
        if not enqueue(task, pk):
            break
        published += 1
    return published


def failure_notices_enqueue(*, delivery_ids) -> int:
    """These deliveries just ended (sent, failed, or fell to the constituent): the notice task
    of each of their actions whose last attempt has ended with news for its constituent (a
    failure, or a success after an operator's retry). Its argument is the action's id, nothing
    else. Returns how many were published."""
    return enqueue_each(notify_constituent, actions_to_tell(delivery_ids=delivery_ids))


@shared_task(name="alerts.deliver")
def deliver(delivery_ids: list[str]) -> dict[str, str]:
    results = deliveries_send(
        delivery_ids=delivery_ids, budget_seconds=settings.DELIVERY_BATCH_SECONDS
    )
    by_outcome = {}
    for pk, result in results.items():
        by_outcome.setdefault(result.outcome, []).append(pk)
    if deferred := by_outcome.get(Outcome.DEFERRED):
        deliveries_enqueue(delivery_ids=deferred)
    # A short wait rides on the broker, the batch's retries together, handed over when the last
    # of them is due; a long wait stays parked in the database for the sweep (a countdown longer
    # than Redis's visibility timeout would be handed out twice).
    retries = {
        pk: results[pk].retry_in
        for pk in by_outcome.get(Outcome.RETRY, [])
        if results[pk].retry_in <= settings.DELIVERY_MAX_COUNTDOWN_SECONDS
    }
    if retries:
        deliveries_enqueue(delivery_ids=list(retries), countdown=max(retries.values()))
    # Told once per action, when its last delivery ends: what failed, or fell to the
    # constituent to send; what an operator's retry delivered after all.
    ended = [Outcome.SENT, Outcome.FAILED, Outcome.MANUAL]
    failure_notices_enqueue(delivery_ids=[pk for o in ended for pk in by_outcome.get(o, [])])
    return {delivery_id: result.outcome for delivery_id, result in results.items()}


@shared_task(name="alerts.send_confirmation", **MAIL_RETRY)
def send_confirmation(action_id: int) -> bool:
    return confirmation_send(action_id=action_id)


@shared_task(name="alerts.notify_constituent", **MAIL_RETRY)
def notify_constituent(action_id: int) -> int:
    return constituent_notices_send(action_id=action_id)


@shared_task(name="alerts.send_reminders")
def send_reminders() -> int:
    return reminders_send()


@shared_task(name="alerts.sweep")
def sweep(now=None) -> dict[str, int]:
    """Hand over what the engine's sweep found; see `deliveries_sweep`."""
    found = deliveries_sweep(now=now)
    failure_notices_enqueue(delivery_ids=found.reclaimed.failed)
    return {
        "reclaimed": len(found.reclaimed.queued),
        "abandoned": len(found.reclaimed.failed),
        "requeued": deliveries_enqueue(delivery_ids=found.unhanded),
        "confirmations": enqueue_each(send_confirmation, found.unconfirmed),
        "notices": enqueue_each(notify_constituent, found.untold),
    }


@shared_task(name="alerts.purge_personal_data")
def purge_personal_data() -> dict[str, int]:
    """Daily (beat): see `privacy.personal_data_purge`."""
    return personal_data_purge().as_dict()


@shared_task(name="alerts.advance_campaigns")
def advance_campaigns() -> dict[str, int]:
    """Every minute (beat): campaigns go live at their start time and close at their end; see
    `lifecycle.campaigns_advance`."""
    return campaigns_advance().as_dict()
