"""Configuration mistakes `manage.py check` should catch before a deployment sends anything."""

from django.conf import settings
from django.core.checks import Error, register

PLACEHOLDERS = {"cwc-operator@example.org", "000-000-0000", "Delivery Operator"}


@register()
def cwc_operator_configured(app_configs, **kwargs):
    """CWC identifies the operator on every message; placeholders would be refused."""
    if not settings.CWC_API_KEY:
        return []
    values = {
        "CWC_DELIVERY_AGENT_EMAIL": settings.CWC_DELIVERY_AGENT_EMAIL,
        "CWC_DELIVERY_AGENT_CONTACT": settings.CWC_DELIVERY_AGENT_CONTACT,
        "CWC_DELIVERY_AGENT_PHONE": settings.CWC_DELIVERY_AGENT_PHONE,
    }
    return [
        Error(
            f"{name} is still a placeholder while CWC_API_KEY is set.",
            hint="Set it to the operator's details registered with CWC.",
            id="alerts.E001",
        )
        for name, value in values.items()
        if value in PLACEHOLDERS
    ]


@register()
def delivery_batches_fit_the_task_time_limit(app_configs, **kwargs):
    """A batch starts no send after DELIVERY_BATCH_SECONDS; the budget must leave room, before
    the task's soft time limit, for the send started last to wait out a silent receiver (a
    connect timeout and a reply timeout). A receiver that answers slowly, step after step, can
    take longer still: then the soft time limit cuts that send, which is retried, and the rest
    of the batch is handed back."""
    slowest_send = max(
        2 * settings.EMAIL_TIMEOUT,  # connecting, then one unanswered reply
        settings.HTTP_CONNECT_TIMEOUT + settings.HTTP_READ_TIMEOUT,
    )
    longest_batch = settings.DELIVERY_BATCH_SECONDS + slowest_send
    if longest_batch < settings.CELERY_TASK_SOFT_TIME_LIMIT:
        return []
    return [
        Error(
            f"A delivery batch may run {longest_batch:.0f}s (DELIVERY_BATCH_SECONDS plus the "
            f"slowest send), past CELERY_TASK_SOFT_TIME_LIMIT "
            f"({settings.CELERY_TASK_SOFT_TIME_LIMIT}s).",
            hint="Lower DELIVERY_BATCH_SECONDS or the channel timeouts, or raise "
            "CELERY_TASK_TIME_LIMIT.",
            id="alerts.E002",
        )
    ]
