"""A thanks page opens only in the browser that sent its action (a signed cookie): tests that
open one for an action made otherwise give their client that cookie."""

from alerts.web.views import thanks_cookie_name, thanks_cookie_value


def hold_thanks(client, *actions) -> None:
    """Let the Django test `client` see these actions' thanks pages."""
    client.cookies[thanks_cookie_name()] = thanks_cookie_value(a.public_id for a in actions)


def thanks_cookie_for(url: str, *actions) -> dict:
    """The same cookie for a browser (Playwright's `context.add_cookies`) on `url`."""
    return {
        "name": thanks_cookie_name(),
        "value": thanks_cookie_value(a.public_id for a in actions),
        "url": url,
    }
