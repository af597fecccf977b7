"""Configuration mistakes `manage.py check` should catch before a deployment sends anything."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from ..models import Campaign
from ..validators import validate_https_origin

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


@register()
def celery_timings_keep_deliveries_single(app_configs, **kwargs):
    """Redis hands an unacknowledged message out again after the visibility timeout. It must
    outlast the longest a task may run (its hard time limit), a delivery's lease (the sweep's
    own recovery of a dead worker's sends, which should come first) and the longest countdown
    a retry rides on the broker (a message held by a worker until due is unacknowledged):
    otherwise a message still being worked on is handed to a second worker and sent twice.
    And the lease must outlast the hard time limit, or the sweep would re-queue a delivery
    whose task is still sending it."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    time_limit = settings.CELERY_TASK_TIME_LIMIT
    lease = settings.DELIVERY_LEASE_SECONDS
    errors = []
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        for name, seconds in (
            ("CELERY_TASK_TIME_LIMIT", time_limit),
            ("DELIVERY_LEASE_SECONDS", lease),
            ("DELIVERY_MAX_COUNTDOWN_SECONDS", settings.DELIVERY_MAX_COUNTDOWN_SECONDS),
        ):
            if visibility is None or visibility <= seconds:
                errors.append(
                    Error(
                        f"The broker's visibility timeout ({visibility}s) is not longer than "
                        f"{name} ({seconds:g}s): a message still in hand would be delivered "
                        "again.",
                        hint="Raise CELERY_VISIBILITY_TIMEOUT.",
                        id="alerts.E011",
                    )
                )
    if lease <= time_limit:
        errors.append(
            Error(
                f"DELIVERY_LEASE_SECONDS ({lease}s) is not longer than CELERY_TASK_TIME_LIMIT "
                f"({time_limit}s): the sweep would re-queue a delivery still being sent.",
                hint="Raise DELIVERY_LEASE_SECONDS or lower CELERY_TASK_TIME_LIMIT.",
                id="alerts.E012",
            )
        )
    if time_limit <= settings.CELERY_TASK_SOFT_TIME_LIMIT:
        errors.append(
            Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({settings.CELERY_TASK_SOFT_TIME_LIMIT}s) is not "
                f"shorter than CELERY_TASK_TIME_LIMIT ({time_limit}s): a batch would be killed "
                "before it could record what it sent.",
                hint="Keep the soft limit below the hard one.",
                id="alerts.E013",
            )
        )
    return errors


@register(Tags.database)
def partner_origins_use_https(app_configs, databases=None, **kwargs):
    """Campaigns saved before partner origins had to be https: each plain-http one is named,
    to be corrected in the admin. A database check (`check --database default`, and `migrate`
    runs it), and a warning, so it never stops a deployment's migrations."""
    if not databases or "default" not in databases:
        return []
    try:
        campaigns = list(
            Campaign.objects.exclude(allowed_origins="").values_list("slug", "allowed_origins")
        )
    except DatabaseError:  # before the first migration, or mid-way through them
        return []
    warnings = []
    for slug, origins in campaigns:
        for origin in origins.split():
            try:
                validate_https_origin(origin)
            except ValidationError:
                warnings.append(
                    CheckWarning(
                        f"Campaign {slug!r} lets {origin} embed its form over plain http.",
                        hint="Change it to the partner's https:// origin in the admin, or "
                        "remove it.",
                        obj=slug,
                        id="alerts.W001",
                    )
                )
    return warnings
