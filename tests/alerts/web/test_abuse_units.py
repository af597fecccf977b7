"""Client addresses, their hashes, rate limits on the real Redis cache, and the framing policy.

The Redis is shared with other test runs, so nothing here clears it: every test gets its own
salt (hence its own cache keys) and deletes the keys it made.
"""

import re
import threading
import uuid
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from alerts.notifications import salted_digest
from alerts.web import abuse
from alerts.web.abuse import (
    EMAIL_LIMIT,
    IP_LIMIT,
    Limit,
    RateLimited,
    check_submission,
    client_ip,
    hit,
    ip_hash,
    rate_limited_response,
    remaining,
)
from alerts.web.framing import (
    ContentSecurityPolicyMiddleware,
    frame_ancestors_header,
    parse_policy,
    validate_origin,
)

NOW = 1_700_000_000  # 2023-11-14 22:13:20 UTC: 800 seconds into an hour-long window.


@pytest.fixture(autouse=True)
def isolated(settings, monkeypatch):
    """A salt of this test's own and a frozen clock, so keys are unique and windows stay put."""
    settings.IP_HASH_SALT = f"test-{uuid.uuid4().hex}"
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    settings.TRUSTED_PROXY_COUNT = 0
    monkeypatch.setattr(abuse, "time", SimpleNamespace(time=lambda: NOW + 0.5))


@pytest.fixture
def limit():
    """A limit whose name no other test uses; its Redis keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield Limit(name=name, count=3, seconds=3600)
    _delete_matching(f"*ratelimit:{name}:*")


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def _delete_matching(pattern):
    client = _redis()
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
    return keys


def _forget(*pairs):
    """Delete the cache entries `check_submission` made for these (limit, key) pairs."""
    window = str(NOW // 3600)
    cache.delete_many([abuse._cache_key(limit, key, window) for limit, key in pairs])


rf = RequestFactory()


def _request(remote="198.51.100.9", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.post("/campaigns/x/", **extra)


# --- client_ip -------------------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(xff="203.0.113.7")) == "198.51.100.9"
    assert client_ip(_request()) == "198.51.100.9"


@pytest.mark.parametrize(
    "spoofed", ["", "1.1.1.1, ", "10.0.0.1, 8.8.8.8, ", "garbage, ", "'; DROP TABLE, 9.9.9.9, "]
)
def test_behind_one_proxy_the_client_is_the_rightmost_entry_whatever_it_sent(settings, spoofed):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(remote="10.0.0.2", xff=f"{spoofed}203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize("spoofed", ["", "1.1.1.1, ", "10.0.0.1,8.8.8.8, "])
def test_behind_two_proxies_the_client_is_second_from_the_right(settings, spoofed):
    settings.TRUSTED_PROXY_COUNT = 2
    xff = f"{spoofed}203.0.113.7, 10.0.0.3"
    assert client_ip(_request(remote="10.0.0.2", xff=xff)) == "203.0.113.7"


def test_a_header_shorter_than_the_proxy_chain_uses_its_leftmost_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(remote="10.0.0.2", xff="203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize("xff", ["", " , ", "not-an-ip", "203.0.113.7, <script>", "999.1.1.1"])
def test_a_missing_or_garbage_header_falls_back_to_remote_addr(settings, xff):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(remote="10.0.0.2", xff=xff)) == "10.0.0.2"


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_addresses_are_normalized(settings, xff, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(remote="10.0.0.2", xff=xff)) == expected


# --- ip_hash ---------------------------------------------------------------------------------


def test_ip_hash_is_stable_hex_and_never_contains_the_address():
    digest = ip_hash("203.0.113.7")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == ip_hash("203.0.113.7")
    assert digest != ip_hash("203.0.113.8")
    assert "203.0.113.7" not in digest


def test_ip_hash_depends_on_the_salt(settings):
    first = ip_hash("203.0.113.7")
    settings.IP_HASH_SALT = "another salt"
    assert ip_hash("203.0.113.7") != first


def test_without_a_salt_ip_hash_is_keyed_by_the_secret_key(settings):
    settings.IP_HASH_SALT = ""
    settings.SECRET_KEY = "one key"
    first = ip_hash("203.0.113.7")
    settings.SECRET_KEY = "another key"
    assert ip_hash("203.0.113.7") != first


# --- hit / remaining -------------------------------------------------------------------------


def test_hit_allows_exactly_count_then_refuses(limit):
    assert remaining(limit, "a") == 3
    assert [hit(limit, "a") for _ in range(5)] == [True, True, True, False, False]
    assert remaining(limit, "a") == 0


def test_keys_and_limits_are_counted_separately(limit):
    other = Limit(name=f"{limit.name}-other", count=1, seconds=3600)
    assert all(hit(limit, "a") for _ in range(3))
    assert hit(limit, "b")
    assert hit(other, "a")
    assert not hit(other, "a")
    assert remaining(limit, "b") == 2
    _delete_matching(f"*ratelimit:{other.name}:*")


def test_a_new_window_starts_afresh(limit, monkeypatch):
    assert all(hit(limit, "a") for _ in range(3))
    assert not hit(limit, "a")
    monkeypatch.setattr(abuse, "time", SimpleNamespace(time=lambda: NOW + 3600))
    assert hit(limit, "a")


def test_the_redis_key_holds_a_hash_not_the_email(limit, settings):
    email = f"ani+{uuid.uuid4().hex[:6]}@example.org"
    hit(limit, email)
    keys = [k.decode() for k in _redis().scan_iter(match=f"*ratelimit:{limit.name}:*")]
    assert len(keys) == 1
    assert email not in keys[0]
    assert "example.org" not in keys[0]
    assert keys[0].endswith(salted_digest(email))
    assert 0 < _redis().ttl(keys[0]) <= 3600 - NOW % 3600 + 1


def test_concurrent_hits_never_overshoot(limit):
    results = []
    lock = threading.Lock()

    def worker():
        allowed = hit(limit, "shared")
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 3


def test_a_cache_outage_lets_requests_through(limit, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(abuse.cache, "add", broken)
    monkeypatch.setattr(abuse.cache, "get", broken)
    assert all(hit(limit, "a") for _ in range(5))
    assert remaining(limit, "a") == 3


# --- check_submission ------------------------------------------------------------------------


def test_check_submission_limits_by_address(settings):
    settings.RATE_LIMIT_PER_IP = 2
    request = _request(remote="203.0.113.50")
    try:
        check_submission(request=request, email=None)
        check_submission(request=request, email=None)
        with pytest.raises(RateLimited) as caught:
            check_submission(request=request, email=None)
        assert caught.value.retry_after == 3600 - NOW % 3600
        assert caught.value.retry_after > 0
        assert caught.value.limit == "ip"
    finally:
        _forget((IP_LIMIT(), "203.0.113.50"))


def test_check_submission_limits_by_email_across_addresses(settings):
    settings.RATE_LIMIT_PER_EMAIL = 2
    addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    try:
        check_submission(request=_request(remote=addresses[0]), email="Ani@Example.org")
        check_submission(request=_request(remote=addresses[1]), email=" ani@example.org ")
        with pytest.raises(RateLimited) as caught:
            check_submission(request=_request(remote=addresses[2]), email="ani@example.org")
        assert caught.value.retry_after > 0
        assert caught.value.limit == "email"
        check_submission(request=_request(remote=addresses[2]), email="someone@example.org")
    finally:
        _forget(
            *[(IP_LIMIT(), ip) for ip in addresses],
            (EMAIL_LIMIT(), "ani@example.org"),
            (EMAIL_LIMIT(), "someone@example.org"),
        )


def test_check_submission_counts_one_ipv6_subscriber_as_one_client(settings):
    settings.RATE_LIMIT_PER_IP = 1
    try:
        check_submission(request=_request(remote="2001:db8:1:2::1"), email=None)
        with pytest.raises(RateLimited):
            check_submission(request=_request(remote="2001:db8:1:2:ffff::9"), email=None)
        check_submission(request=_request(remote="2001:db8:1:3::1"), email=None)
    finally:
        _forget((IP_LIMIT(), "2001:db8:1:2::/64"), (IP_LIMIT(), "2001:db8:1:3::/64"))


def test_the_429_page_is_friendly_and_says_when_to_come_back():
    response = rate_limited_response(_request(), RateLimited(retry_after=1500))
    body = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "1500"
    assert "no-store" in response["Cache-Control"]
    assert "You've sent a lot of messages in a short time." in body
    assert "Please try again in about 25 minutes." in body


def test_the_429_page_in_the_embed_uses_the_frame_layout():
    request = _request()
    response = rate_limited_response(request, RateLimited(retry_after=90), embedded=True)
    body = response.content.decode()
    assert response.status_code == 429
    assert 'class="embed"' in body
    assert "Please try again in about 2 minutes." in body
    assert "Back to the campaigns" not in body


def test_the_429_page_says_one_minute_in_the_singular():
    body = rate_limited_response(_request(), RateLimited(retry_after=5)).content.decode()
    assert "Please try again in about 1 minute." in body


# --- framing -------------------------------------------------------------------------------


def _through_middleware(csp=None):
    def view(request):
        response = HttpResponse("ok")
        if csp is not None:
            response["Content-Security-Policy"] = csp
        return response

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/"))
    return parse_policy(response["Content-Security-Policy"])


def test_by_default_no_one_may_frame_a_page():
    assert _through_middleware()["frame-ancestors"] == ["'none'"]


def test_a_view_that_names_its_frame_ancestors_keeps_them_and_the_site_policy():
    policy = _through_middleware(frame_ancestors_header(["https://partner.example"]))
    assert policy["frame-ancestors"] == ["'self'", "https://partner.example"]
    assert policy["script-src"] == ["'self'"]


def test_a_view_policy_without_frame_ancestors_gets_ours_added():
    policy = _through_middleware("default-src 'self'; img-src https://frame-ancestors.example;")
    assert policy["img-src"] == ["https://frame-ancestors.example"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_frame_ancestors_header_keeps_only_plain_origins():
    header = frame_ancestors_header(
        [
            "https://Partner.Example",
            "http://localhost:8000",
            "https://partner.example",
            "https://evil.example; script-src *",
            "*",
            "https://*.example",
            "javascript:alert(1)",
            "https://partner.example/embed",
            "https://partner.example/",
            "'self'",
            "'unsafe-inline'",
            "https://a.example https://b.example",
            "https://a.example,https://b.example",
            "ftp://files.example",
            "https://partner.example:99999",
            "https://partner.example\n",
            "data:",
            "",
        ]
    )
    assert header == "frame-ancestors 'self' https://partner.example http://localhost:8000"


def test_frame_ancestors_header_with_no_origins_allows_only_ourselves():
    assert frame_ancestors_header([]) == "frame-ancestors 'self'"


@pytest.mark.parametrize(
    "origin", ["https://partner.example", "https://partner.example:8443", "http://[::1]:8000"]
)
def test_validate_origin_accepts_plain_origins(origin):
    validate_origin(origin)


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example; script-src *", "*", "javascript:alert(1)", "https://p.example/x"],
)
def test_validate_origin_rejects_anything_else(origin):
    with pytest.raises(ValidationError) as caught:
        validate_origin(origin)
    assert caught.value.code == "origin"


def _commands_sent(monkeypatch) -> list[str]:
    """The names of the commands redis-py sends from now on, in order."""
    import redis.client

    sent = []
    original = redis.client.Redis.execute_command

    def execute_command(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.client.Redis, "execute_command", execute_command)
    return sent


def test_check_submission_counts_both_limits_in_one_command(settings, monkeypatch):
    """Both counters in one script run: the same keys `hit` and `remaining` use."""
    settings.RATE_LIMIT_PER_IP = 2
    settings.RATE_LIMIT_PER_EMAIL = 5
    request = _request(remote="203.0.113.61")
    email = f"one-trip-{uuid.uuid4().hex[:6]}@example.org"
    check_submission(request=_request(remote="203.0.113.62"), email=None)  # the script loaded
    sent = _commands_sent(monkeypatch)
    check_submission(request=request, email=email)
    assert sent == ["EVALSHA"]
    assert remaining(abuse.EMAIL_LIMIT(), email.casefold()) == 4
    check_submission(request=request, email=email)
    with pytest.raises(RateLimited) as caught:
        check_submission(request=request, email=email)
    assert caught.value.limit == "ip"


def test_check_submission_counts_after_redis_forgot_its_scripts(settings, monkeypatch):
    """A restarted Redis holds no scripts: the script is loaded again, and the hit counted."""
    settings.RATE_LIMIT_PER_EMAIL = 5
    email = f"flushed-{uuid.uuid4().hex[:6]}@example.org"
    check_submission(request=_request(remote="203.0.113.63"), email=email)
    client = cache._cache.get_client(write=True)
    client.script_flush()
    sent = _commands_sent(monkeypatch)
    check_submission(request=_request(remote="203.0.113.63"), email=email)
    assert sent == ["EVALSHA", "SCRIPT LOAD", "EVALSHA"]
    assert remaining(abuse.EMAIL_LIMIT(), email.casefold()) == 3


def test_a_window_key_expires_with_its_window(settings):
    settings.RATE_LIMIT_PER_EMAIL = 5
    email = f"expiry-{uuid.uuid4().hex[:6]}@example.org"
    check_submission(request=_request(remote="203.0.113.64"), email=email)
    limit = abuse.EMAIL_LIMIT()
    window, left = abuse._window(limit)
    key = cache.make_and_validate_key(abuse._cache_key(limit, email.casefold(), window))
    ttl = cache._cache.get_client(write=True).ttl(key)
    assert 0 < ttl <= left + 1
