"""Where a webhook may point: refuse private, loopback and link-local addresses unless allowed.

A webhook URL is fetched by the worker from inside the deployment's network, so an admin (or
a stolen admin token) could otherwise aim it at internal services. Checked when a webhook is
registered or changed (addresses), and by the sender before each request (what names
resolve to, which can change).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from domain.webhook import BadWebhookUrl


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def check_reachable(url: str, *, allow_private: bool) -> None:
    """Refuse ``url`` when its host is a private or loopback address, or ``localhost``.

    Names are not resolved here (no DNS lookup in a request): the sender resolves them
    before each request and refuses what resolves to such an address.
    """
    if allow_private:
        return
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise BadWebhookUrl("webhooks may not reach loopback addresses here")
    try:
        refused = refused_address(host)
    except ValueError:  # a name, not an address
        return
    if refused:
        raise BadWebhookUrl(
            f"{host} is a private or loopback address; "
            "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=true allows it"
        )
