"""Who is asking, and how often: client addresses, their salted hashes, and rate limits.

Addresses and email addresses are personal data, so neither is stored or used as a cache key
in the clear: both go through `notifications.salted_digest`, an HMAC keyed by `IP_HASH_SALT`
(or `SECRET_KEY`).
"""

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from ..notifications import mailbox_key, salted_digest

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(value: str) -> IPAddress | None:
    """An address from a header entry, allowing the `1.2.3.4:80` and `[::1]:80` forms."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting `X-Forwarded-For` only as far as our own proxies wrote it.

    Each of the `TRUSTED_PROXY_COUNT` proxies appends the address it was connected from, so the
    client is the Nth entry from the right; anything further left came from the client and may
    be forged. A shorter header means fewer proxies were passed, so its leftmost entry (still
    written by one of ours) is the best we know.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    remote_ip = _parse_ip(remote)
    fallback = str(remote_ip) if remote_ip else remote
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return fallback
    entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if not entries:
        return fallback
    ip = _parse_ip(entries[max(len(entries) - proxies, 0)])
    return str(ip) if ip else fallback


def ip_hash(ip: str) -> str:
    """What we store instead of an address: stable for one salt, useless without it."""
    return salted_digest(ip)


def _ip_bucket(ip: str) -> str:
    """One IPv6 subscriber usually holds a whole /64, so the limit counts the /64."""
    parsed = _parse_ip(ip)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return ip


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


def IP_LIMIT() -> Limit:
    """Submissions per client address, from settings at call time so tests can change them."""
    return Limit("ip", settings.RATE_LIMIT_PER_IP, settings.RATE_LIMIT_WINDOW_SECONDS)


def EMAIL_LIMIT() -> Limit:
    """Submissions per email address, from settings at call time so tests can change them."""
    return Limit("email", settings.RATE_LIMIT_PER_EMAIL, settings.RATE_LIMIT_WINDOW_SECONDS)


def _window(limit: Limit) -> tuple[str, int]:
    """This window's number and the seconds until the next one; windows align to the epoch."""
    now = int(time.time())
    return str(now // limit.seconds), limit.seconds - now % limit.seconds


def _cache_key(limit: Limit, key: str, window: str) -> str:
    return f"ratelimit:{limit.name}:{window}:{salted_digest(key)}"


def hit(limit: Limit, key: str) -> bool:
    """Count one request for `key`; False once it is over `limit.count` in this window.

    `add` then `incr` is atomic on a shared cache, so concurrent workers cannot both take the
    last slot. If the cache is down we allow the request: losing a submission is worse than
    missing a limit for a while.
    """
    window, left = _window(limit)
    cache_key = _cache_key(limit, key, window)
    try:
        cache.add(cache_key, 0, timeout=left + 1)
        try:
            count = cache.incr(cache_key)
        except ValueError:
            # Evicted between add and incr: this request starts the window again.
            cache.add(cache_key, 1, timeout=left + 1)
            count = 1
    except Exception:
        logger.warning("rate limit cache unavailable; allowing %s", limit.name, exc_info=True)
        return True
    return count <= limit.count


def remaining(limit: Limit, key: str) -> int:
    """How many more requests `key` may make in this window."""
    window, _ = _window(limit)
    try:
        used = cache.get(_cache_key(limit, key, window), 0)
    except Exception:  # noqa: BLE001 - same as `hit`: a down cache limits nobody
        return limit.count
    return max(limit.count - int(used), 0)


def retry_after(limit: Limit) -> int:
    """Seconds until `limit`'s window ends and every key may try again."""
    return _window(limit)[1]


class RateLimited(Exception):
    """A submission over a limit; `retry_after` is in seconds, for the `Retry-After` header."""

    def __init__(self, *, retry_after: int, limit: str = ""):
        super().__init__(f"rate limited ({limit}); retry after {retry_after}s")
        self.retry_after = retry_after
        self.limit = limit


def check_submission(*, request: HttpRequest, email: str | None) -> None:
    """Count one submission against the client's address and, if given, its email address's
    mailbox (`mailbox_key`: `Ann+1@x` and `ann@x` are one allowance, as are Gmail's dots).

    Raises `RateLimited` when either is over its limit. Call it only for a submission that is
    about to be stored, so a mistyped form does not use up anyone's allowance.
    """
    checks = [(IP_LIMIT(), _ip_bucket(client_ip(request)))]
    if email:
        checks.append((EMAIL_LIMIT(), mailbox_key(email)))
    for (limit, _key), allowed in zip(checks, _hits(checks), strict=True):
        if not allowed:
            raise RateLimited(retry_after=retry_after(limit), limit=limit.name)


# Each key: created at 0 with its window's expiry unless it exists, then incremented. One
# command and one reply, where MULTI, two commands a key and EXEC took six of each.
_HITS_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'NX', 'EX', ARGV[i])
  counts[i] = redis.call('INCR', key)
end
return counts
"""
_hits_script = None


def _hits(checks: list[tuple[Limit, str]]) -> list[bool]:
    """`hit` for each (limit, key), in one round trip to Redis and as atomic (a script): the
    same keys and values as `hit` gives them."""
    global _hits_script
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return [hit(limit, key) for limit, key in checks]
    try:
        keys, ttls = [], []
        for limit, key in checks:
            window, left = _window(limit)
            keys.append(backend.make_and_validate_key(_cache_key(limit, key, window)))
            ttls.append(left + 1)
        client = backend._cache.get_client(keys[0], write=True)
        if _hits_script is None:
            _hits_script = client.register_script(_HITS_SCRIPT)
        counts = _hits_script(keys=keys, args=ttls, client=client)
    except Exception:
        logger.warning("rate limit cache unavailable; allowing a submission", exc_info=True)
        return [True] * len(checks)
    return [count <= limit.count for (limit, _key), count in zip(checks, counts, strict=True)]


def rate_limited_response(
    request: HttpRequest, exc: RateLimited, *, embedded: bool = False
) -> HttpResponse:
    """The friendly 429 page, with `Retry-After` so clients and proxies know when to come back.

    `embedded` renders it in the embed's frame layout, without links the frame may not open.
    """
    minutes = max(math.ceil(exc.retry_after / 60), 1)
    context = {
        "minutes": minutes,
        "embedded": embedded,
        "base_template": "base_embed.html" if embedded else "base.html",
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    add_never_cache_headers(response)
    return response
