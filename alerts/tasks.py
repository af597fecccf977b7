from celery import shared_task

from .delivery import delivery_send


@shared_task(name="alerts.deliver")
def deliver(delivery_id: str) -> str:
    """Takes a delivery id only: no personal data passes through the broker."""
    return delivery_send(delivery_id=delivery_id)
