"""Email over SMTP, one connection per worker process, reused from message to message."""

import contextlib
import smtplib
from email.utils import formataddr

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage, get_connection

from ..webforms import values
from . import web_form
from .errors import DeliveryError, PermanentError, TransientError

_backend = None


def _connection():
    global _backend  # one connection per process, opened on first use
    if _backend is None:
        _backend = get_connection(fail_silently=False)
    _backend.open()
    return _backend


def close_connection():
    global _backend
    if _backend is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            _backend.close()
        _backend = None


def build_message(delivery, *, to: str, extra_headers: dict | None = None) -> EmailMessage:
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


def send_message(message: EmailMessage) -> None:
    """Send on the process's connection; an idle connection the server dropped is reopened
    once. SMTP replies are sorted into transient (4xx, timeouts) and permanent (5xx)."""
    try:
        try:
            message.connection = _connection()
            message.send()
        except smtplib.SMTPServerDisconnected:
            close_connection()
            message.connection = _connection()
            message.send()
    except BadHeaderError as exc:
        raise PermanentError(f"refused header: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        close_connection()
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values()
        )
        error = PermanentError if all(code >= 500 for code in codes) else TransientError
        raise error(f"recipient refused: {detail}") from exc
    except smtplib.SMTPResponseException as exc:
        close_connection()
        text = exc.smtp_error
        reply = (
            f"{exc.smtp_code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        )
        error = PermanentError if exc.smtp_code >= 500 else TransientError
        raise error(f"SMTP {reply}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        close_connection()
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc


def send(delivery) -> None:
    send_message(build_message(delivery, to=delivery.official.email))


def send_sandboxed(delivery) -> None:
    """Whatever the official's channel, write to the catch-all inbox and say where it would go."""
    official = delivery.official
    headers = {
        "X-Official-Name": f"{official.title} {official.name}",
        "X-Official-Id": official.key,
        "X-Official-Channel": delivery.channel,
        "X-Delivery-Id": str(delivery.id),
    }
    message = build_message(delivery, to=settings.DELIVERY_SANDBOX_EMAIL, extra_headers=headers)
    if delivery.channel == official.Channel.WEB_FORM:
        message.body += web_form_values_block(delivery)
    send_message(message)


def web_form_values_block(delivery) -> str:
    """What the browser would type into the office's form, computed without a browser."""
    lines = ["", "", "-- Web form values (sandbox: no office was contacted) --"]
    try:
        form = web_form.usable_form(delivery.official)
        plan = web_form.plan_for(delivery, form)
    except DeliveryError as exc:
        lines.append(f"Not attempted: {exc}")
    else:
        lines += [f"{field}: {value}" for field, value in values.filled_values(plan)]
    return "\n".join(lines) + "\n"
