"""HTTP for channels: a pooled client per worker process with firm timeouts and no redirects."""

import urllib3
from django.conf import settings

from . import PermanentError, TransientError

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


def post(url: str, *, body: bytes, headers: dict) -> urllib3.BaseHTTPResponse:
    """POST and sort the answer: 2xx returns; 429 and 5xx are transient; any other status,
    redirects included (never followed), is permanent."""
    try:
        response = _client().request("POST", url, body=body, headers=headers, redirect=False)
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= response.status < 300:
        return response
    detail = f"HTTP {response.status}: {response.data[:500].decode(errors='replace')}"
    if response.status == 429 or response.status >= 500:
        raise TransientError(detail, body=response.data)
    raise PermanentError(detail, body=response.data)
