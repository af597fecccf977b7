"""Celery tasks: thin wrappers that take ids only, so no personal data passes the broker."""

import smtplib

from celery import shared_task
from django.conf import settings

from .delivery.engine import Outcome, deliveries_enqueue, deliveries_send, deliveries_sweep
from .notifications import confirmation_send, failure_notice_send, reminders_send

MAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="alerts.deliver")
def deliver(delivery_ids: list[str]) -> dict[str, str]:
    results = deliveries_send(
        delivery_ids=delivery_ids, budget_seconds=settings.DELIVERY_BATCH_SECONDS
    )
    deferred = [pk for pk, result in results.items() if result.outcome == Outcome.DEFERRED]
    if deferred:
        deliveries_enqueue(delivery_ids=deferred)
    # A short wait rides on the broker, the batch's retries together, handed over when the last
    # of them is due; a long wait stays parked in the database for the sweep (a countdown longer
    # than Redis's visibility timeout would be handed out twice).
    retries = {
        pk: result.retry_in
        for pk, result in results.items()
        if result.outcome == Outcome.RETRY
        and result.retry_in <= settings.DELIVERY_MAX_COUNTDOWN_SECONDS
    }
    if retries:
        deliveries_enqueue(delivery_ids=list(retries), countdown=max(retries.values()))
    return {delivery_id: result.outcome for delivery_id, result in results.items()}


@shared_task(name="alerts.send_confirmation", **MAIL_RETRY)
def send_confirmation(action_id: int) -> bool:
    return confirmation_send(action_id=action_id)


@shared_task(name="alerts.notify_failure", **MAIL_RETRY)
def notify_failure(delivery_id: str) -> bool:
    return failure_notice_send(delivery_id=delivery_id)


@shared_task(name="alerts.send_reminders")
def send_reminders() -> int:
    return reminders_send()


@shared_task(name="alerts.sweep")
def sweep() -> dict:
    return vars(deliveries_sweep())
