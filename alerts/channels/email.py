from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage

from ..models import Delivery


def build_message(
    delivery: Delivery, *, to: str, extra_headers: dict | None = None
) -> EmailMessage:
    action = delivery.action
    headers = {"Message-ID": delivery.message_id, **(extra_headers or {})}
    return EmailMessage(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[formataddr((action.full_name, action.email))],
        headers=headers,
    )


def send(delivery: Delivery) -> None:
    build_message(delivery, to=delivery.official.email).send()


def send_sandboxed(delivery: Delivery) -> None:
    """Whatever the official's channel, write to the catch-all inbox and say where it would go."""
    official = delivery.official
    headers = {
        "X-Official-Name": f"{official.title} {official.name}",
        "X-Official-Id": official.key,
        "X-Official-Channel": delivery.channel,
        "X-Delivery-Id": str(delivery.id),
    }
    build_message(delivery, to=settings.DELIVERY_SANDBOX_EMAIL, extra_headers=headers).send()
