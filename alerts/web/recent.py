"""What a public GET under a blast may reuse for a moment without asking anyone: a value kept
in this worker process for PUBLIC_CACHE_SECONDS, then computed afresh.

Tens of thousands of visitors arriving within minutes ask for the same campaign and the same
count. Within a second or two nothing a visitor could notice changes, and a round trip to
PostgreSQL or Redis costs more than the rest of such a request. Only what is the same for every
visitor goes here, never anything of a visitor's.
"""

import threading
import time

from django.conf import settings

_kept: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()
# Keys include the choices visitors make (which officials), so expired values are dropped once
# this many are kept: memory stays bounded however long the process lives.
MOST_KEPT = 1000


def recent(key: str, compute):
    """`compute()`, or its value from less than PUBLIC_CACHE_SECONDS ago in this process.
    An exception (a 404) is not kept: it is raised again next time."""
    seconds = settings.PUBLIC_CACHE_SECONDS
    now = time.monotonic()
    if seconds > 0:
        kept = _kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
    value = compute()
    if seconds > 0:
        with _lock:
            if len(_kept) >= MOST_KEPT:
                for stale in [k for k, (until, _) in _kept.items() if until <= now]:
                    del _kept[stale]
                if len(_kept) >= MOST_KEPT:  # all still fresh: start again
                    _kept.clear()
            _kept[key] = (now + seconds, value)
    return value


def forget() -> None:
    """Drop everything kept (tests)."""
    with _lock:
        _kept.clear()
