"""A staff session ends after STAFF_SESSION_IDLE_SECONDS without a request, and
STAFF_SESSION_MAX_SECONDS after sign-in whatever happens."""

import logging
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest

logger = logging.getLogger("staff")

LAST_SEEN_KEY = "staff_last_seen"
SIGNED_IN_AT_KEY = "staff_signed_in_at"


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Only a signed-in session holds SESSION_KEY; visitors (no session) cost nothing here.
        session = request.session
        if SESSION_KEY in session:
            now = time.time()
            idle = now - session.get(LAST_SEEN_KEY, now)
            age = now - session.get(SIGNED_IN_AT_KEY, now)
            too_long = age > settings.STAFF_SESSION_MAX_SECONDS
            if idle > settings.STAFF_SESSION_IDLE_SECONDS or too_long:
                logger.info(
                    "staff session expired: account %s, idle %d s, signed in %d s ago",
                    session.get(SESSION_KEY),
                    idle,
                    age,
                )
                logout(request)
            else:
                session[LAST_SEEN_KEY] = now
                session.setdefault(SIGNED_IN_AT_KEY, now)
        return self.get_response(request)
