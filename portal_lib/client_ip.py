"""Who is on the other end: the one place that decides a request's client address.

In production every request reaches gunicorn from the TLS proxy on 127.0.0.1, so
REMOTE_ADDR is the proxy, not the member of staff. The proxy appends the address it
saw to X-Forwarded-For; anything to the left of that came from the client and may be
forged. So the header is read only when REMOTE_ADDR is one of TRUSTED_PROXIES, from the
right, skipping our own proxies; the first address that is not one of them is the client.
With TRUSTED_PROXIES empty (development, the default) the header is never read.

The login lockout (django-axes, AXES_CLIENT_IP_CALLABLE) and the access log both use
`client_ip(request)`, so the address that is locked is the address that is logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDRs ("127.0.0.1", "10.0.0.0/8", "::1"); ValueError on a bad one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: Any, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    """The client's address from REMOTE_ADDR and X-Forwarded-For, trusting only `trusted`."""
    peer = _address(remote_addr or "")
    if peer is None or not _trusted(peer, trusted):
        return remote_addr or None
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Our proxy always appends a clean address, so this is not from it: stop here
            # rather than believe anything further left.
            return str(peer)
        if not _trusted(address, trusted):
            return str(address)
    # Only our own proxies on the way (e.g. a check from the proxy host itself).
    first = _address(hops[0]) if hops else None
    return str(first or peer)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def client_ip(request: Any) -> str | None:
    """The client address of a Django request, by the TRUSTED_PROXIES setting."""
    return client_address(
        request.META.get("REMOTE_ADDR"),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        _networks(tuple(settings.TRUSTED_PROXIES)),
    )
