"""Periodic work of the legislators app (run by beat; see CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task
from django.conf import settings

from . import senate_offices

logger = logging.getLogger(__name__)


@shared_task(name="legislators.refresh_senate_offices")
def refresh_senate_offices() -> str:
    """Re-read the Senate's CWC active-offices list from SENATE_CWC_OFFICES_URL. A list that
    cannot be read or checked changes nothing: the last good one stays, and the error is
    logged for the operator."""
    source = settings.SENATE_CWC_OFFICES_URL
    if not source:
        return "SENATE_CWC_OFFICES_URL is not set"
    try:
        summary = senate_offices.refresh(source)
    except senate_offices.DataError as exc:
        logger.error("Senate CWC offices not refreshed: %s", exc)
        return f"not refreshed: {exc}"
    logger.info("Senate CWC offices refreshed: %s", summary)
    return str(summary)
