"""The Content-Security-Policy of every page, and who may put a page in a frame: nobody, unless a
view (the embed) names its partners."""

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponseBase

from ..validators import normalize_origin, validate_origin

__all__ = [
    "ContentSecurityPolicyMiddleware",
    "frame_ancestors_header",
    "parse_policy",
    "validate_origin",
]

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


def parse_policy(policy: str) -> dict[str, list[str] | bool]:
    """A policy's directives by name (lower case), each with its sources; True for a bare one."""
    directives: dict[str, list[str] | bool] = {}
    for directive in policy.split(";"):
        if directive.strip():
            name, *sources = directive.split()
            directives.setdefault(name.lower(), sources or True)
    return directives


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (`CONTENT_SECURITY_POLICY`) on every response, merged with a view's.

    A view that sets its own `Content-Security-Policy` header (the embed names the partners who
    may frame it) keeps the directives it names; every other directive comes from the settings,
    so `script-src 'self'` holds on a framed page too. A response has one such header here.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        own = response.get(CSP_HEADER, "").strip()
        if own:
            del response[CSP_HEADER]
            replace = getattr(response, "_csp_replace", None) or {}
            response._csp_replace = {**parse_policy(own), **replace}
        response = super().process_response(request, response)
        if CSP_HEADER not in response:  # DEBUG's error pages, which django-csp leaves alone
            response[CSP_HEADER] = own or DENY_FRAMING
        return response
