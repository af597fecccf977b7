"""HTTP for channels: a pooled client per worker process with firm timeouts and no redirects."""

import urllib.parse

import urllib3
from django.conf import settings

from .errors import PermanentError, TransientError

_pool = None


def _client() -> urllib3.PoolManager:
    global _pool  # one pool per process
    if _pool is None:
        _pool = urllib3.PoolManager(
            retries=False,
            timeout=urllib3.Timeout(
                connect=settings.HTTP_CONNECT_TIMEOUT, read=settings.HTTP_READ_TIMEOUT
            ),
        )
    return _pool


def _pinned_pool(url: str, address: str):
    """A one-off connection pool to `address` that still speaks to the URL's host (Host header,
    TLS server name and certificate check), so a second DNS answer cannot redirect us."""
    parts = urllib.parse.urlsplit(url)
    options = {
        "retries": False,
        "timeout": urllib3.Timeout(
            connect=settings.HTTP_CONNECT_TIMEOUT, read=settings.HTTP_READ_TIMEOUT
        ),
    }
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            parts.port or 443,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            **options,
        )
    return urllib3.HTTPConnectionPool(address, parts.port or 80, **options)


def post(
    url: str, *, body: bytes, headers: dict, connect_to: str | None = None
) -> urllib3.BaseHTTPResponse:
    """POST and sort the answer: 2xx returns; 429 and 5xx are transient; any other status,
    redirects included (never followed), is permanent. `connect_to` pins the IP address."""
    try:
        if connect_to:
            parts = urllib.parse.urlsplit(url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            response = _pinned_pool(url, connect_to).urlopen(
                "POST",
                path,
                body=body,
                headers={**headers, "Host": parts.netloc},
                redirect=False,
            )
        else:
            response = _client().request("POST", url, body=body, headers=headers, redirect=False)
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= response.status < 300:
        return response
    detail = f"HTTP {response.status}: {response.data[:500].decode(errors='replace')}"
    if response.status == 429 or response.status >= 500:
        raise TransientError(detail, body=response.data)
    raise PermanentError(detail, body=response.data)
