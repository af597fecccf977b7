"""A rate limit shared by every worker process: at most `rate` sends a second to one receiver.

Each send reserves the next free slot (GCRA with no burst: slots are 1/rate seconds apart) and
waits for it. With REDIS_URL the slots are kept in Redis by one Lua script, on Redis's own
clock, so every process on every machine takes its turn from the same line; without it
(SQLite and the filesystem broker: one machine, usually one worker) each process keeps its own.

A wait is bounded: when the next free slot is further off than `max_wait`, nothing is reserved
and `RateLimited` says so, for the caller to retry later. Redis keys carry only the limiter's
name (no personal data).
"""

import threading
import time

from django.conf import settings

KEY_PREFIX = "action-alerts:ratelimit:"
DEFAULT_MAX_WAIT = 10.0  # seconds: a worker waits this long for a slot at most

# KEYS[1]: the limiter's key, holding the next free slot (microseconds on Redis's clock).
# ARGV[1]: microseconds between slots; ARGV[2]: the longest wait accepted, in microseconds.
# Returns the microseconds to wait for the slot reserved, or -1 when none was reserved.
_RESERVE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > tonumber(ARGV[2]) then return -1 end
local expire_ms = math.floor((wait + interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', expire_ms)
return wait
"""


class RateLimited(Exception):
    """No slot within the longest wait allowed."""


class RedisUnavailable(Exception):
    """The shared limiter could not be asked; sending anyway could break the limit."""


class _ProcessSlots:
    """The same line of slots, for this process only."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, key: str, interval: float, max_wait: float) -> float | None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next.get(key, 0.0), now)
            if slot - now > max_wait:
                return None
            self._next[key] = slot + interval
            return slot - now


class _RedisSlots:
    def __init__(self, url: str):
        import redis  # only where REDIS_URL is set

        self._errors = (redis.RedisError, OSError)
        # Fails closed: a Redis that does not answer within the timeout raises RedisUnavailable
        # and the send is retried later, as sending unmetered could break the receiver's limit.
        timeout = settings.REDIS_SOCKET_TIMEOUT
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._script = self._client.register_script(_RESERVE)

    def reserve(self, key: str, interval: float, max_wait: float) -> float | None:
        try:
            wait = int(self._script(keys=[key], args=[int(interval * 1e6), int(max_wait * 1e6)]))
        except self._errors as exc:
            raise RedisUnavailable(f"rate limiter: {type(exc).__name__}") from exc
        return None if wait < 0 else wait / 1e6


_slots = None
_slots_for = None
_slots_lock = threading.Lock()


def _backend():
    """One per process, rebuilt when REDIS_URL changes (tests)."""
    global _slots, _slots_for
    url = settings.REDIS_URL
    with _slots_lock:
        if _slots is None or _slots_for != url:
            _slots = _RedisSlots(url) if url else _ProcessSlots()
            _slots_for = url
        return _slots


def wait_for_slot(
    name: str, *, rate_per_second: float, max_wait: float = DEFAULT_MAX_WAIT, sleep=time.sleep
) -> float:
    """Reserve the next slot of limiter `name` and sleep until it; returns the seconds waited.
    Raises RateLimited (nothing reserved) when the slot is more than `max_wait` away, and
    RedisUnavailable when the shared limiter cannot be asked. A rate of 0 or less: no limit."""
    if rate_per_second <= 0:
        return 0.0
    wait = _backend().reserve(KEY_PREFIX + name, 1.0 / rate_per_second, max_wait)
    if wait is None:
        raise RateLimited(f"no slot for {name} within {max_wait:g}s")
    if wait > 0:
        sleep(wait)
    return wait
