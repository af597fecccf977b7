"""Celery tasks: thin wrappers that take ids only, so no personal data passes the broker."""

import smtplib

from celery import shared_task

from .delivery import delivery_send
from .notifications import confirmation_send, reminders_send


@shared_task(name="alerts.deliver")
def deliver(delivery_id: str) -> str:
    return delivery_send(delivery_id=delivery_id)


@shared_task(
    name="alerts.send_confirmation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_confirmation(action_id: int) -> bool:
    return confirmation_send(action_id=action_id)


@shared_task(name="alerts.send_reminders")
def send_reminders() -> int:
    return reminders_send()
