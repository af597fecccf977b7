"""What django-axes counts failed sign-ins by: the client's address and the name typed."""

import ipaddress

from django.http import HttpRequest

from alerts.web.abuse import client_ip


def client_address(request: HttpRequest) -> str | None:
    """The client as `alerts.web.abuse.client_ip` sees it, so a forged X-Forwarded-For entry
    counts for nothing beyond our own proxies. One IPv6 subscriber usually holds a whole /64, so
    such an address is counted as its /64 (written as the network's first address)."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address)
    return str(ip)


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name typed, the same however it is cased or padded: staff usernames are lowercase
    email addresses, and `Admin` must not start a count of its own beside `admin`."""
    source = credentials if credentials is not None else request.POST
    username = source.get("username")
    return username.strip().casefold() if isinstance(username, str) else None
