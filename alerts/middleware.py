"""Who may put our pages in a frame: nobody, unless a view (the embed) names its partners."""

import ipaddress
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

CSP_HEADER = "Content-Security-Policy"
DENY_FRAMING = "frame-ancestors 'none'"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)*{_LABEL}|\[[0-9a-f:.]+\]"
_ORIGIN_RE = re.compile(rf"https?://(?P<host>{_HOST})(?::(?P<port>\d{{1,5}}))?", re.ASCII)


def _normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case, or None for anything else.

    The result goes verbatim into a header, so only the characters of a plain origin get
    through: no path, wildcard, quote, semicolon, comma or whitespace.
    """
    if not isinstance(value, str):
        return None
    match = _ORIGIN_RE.fullmatch(value.lower())
    if not match:
        return None
    host, port = match["host"], match["port"]
    if len(host) > 253:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    if port is not None and not 0 < int(port) < 65536:
        return None
    return match.group(0)


def validate_origin(value: str) -> None:
    """For a campaign's allowed origins: each one must be `https://host` or `https://host:port`."""
    if _normalize_origin(value) is None:
        raise ValidationError(
            _(
                "Enter an origin like https://partner.example or https://partner.example:8443, "
                "without a path, a trailing slash or wildcards."
            ),
            code="origin",
        )


def frame_ancestors_header(origins: list[str]) -> str:
    """The `Content-Security-Policy` value letting us and `origins` frame a page.

    Invalid origins are dropped rather than raising, so one bad entry cannot widen the policy
    or break the page.
    """
    allowed = ["'self'"]
    for origin in origins:
        normalized = _normalize_origin(origin)
        if normalized and normalized not in allowed:
            allowed.append(normalized)
    return "frame-ancestors " + " ".join(allowed)


def _has_frame_ancestors(policy: str) -> bool:
    return any(
        directive.strip().lower().split(maxsplit=1)[:1] == ["frame-ancestors"]
        for directive in policy.split(";")
    )


class FramingPolicyMiddleware:
    """Give every response `frame-ancestors 'none'` unless its view set its own.

    A view that sets a policy without `frame-ancestors` keeps it, with ours appended, since a
    response carries only one `Content-Security-Policy` header here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = response.get(CSP_HEADER, "").strip().rstrip(";")
        if not policy:
            response[CSP_HEADER] = DENY_FRAMING
        elif not _has_frame_ancestors(policy):
            response[CSP_HEADER] = f"{policy}; {DENY_FRAMING}"
        return response
