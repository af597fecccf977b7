"""Who may put our pages in a frame: nobody, unless a view (the embed) names its partners."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ..validators import normalize_origin, validate_origin

__all__ = ["FramingPolicyMiddleware", "frame_ancestors_header", "validate_origin"]

CSP_HEADER = "Content-Security-Policy"
DENY_FRAMING = "frame-ancestors 'none'"


def frame_ancestors_header(origins: list[str]) -> str:
    """The `Content-Security-Policy` value letting us and `origins` frame a page.

    Invalid origins are dropped rather than raising, so one bad entry cannot widen the policy
    or break the page.
    """
    allowed = ["'self'"]
    for origin in origins:
        normalized = normalize_origin(origin)
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
