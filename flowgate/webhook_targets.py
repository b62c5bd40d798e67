"""Where a webhook may be POSTed: only to public internet addresses, unless
`FLOWGATE_WEBHOOK_ALLOW_PRIVATE` says otherwise.

A workflow's editor chooses its webhook URL; without this check the gateway would POST, from
inside its own network, to whatever that URL names (loopback, 10/8, the cloud metadata
service at 169.254.169.254, ...): server-side request forgery. The host is resolved at each
delivery (DNS can change after the URL was set), every resolved address must be global, and
the POST then goes to the address that was checked, so that a second resolution cannot
answer differently (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

# NAT64's well-known prefix (RFC 6052): the last 32 bits are an IPv4 address, reached through
# a translator; Python counts the prefix as global whatever the address inside.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Names that mean this machine without asking DNS (RFC 6761).
_LOCAL_NAMES = ("localhost", "localhost.localdomain")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefusedError(Exception):
    """The webhook's host is not one the gateway may POST to: final, no retry can help."""


class TargetUnresolvedError(Exception):
    """The webhook's host did not resolve: perhaps for now, so worth a retry."""


def _translated_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address that a connection to `address` reaches (IPv4-mapped, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether `address` (an IP, optionally with an IPv6 `%scope`) is on the public internet:
    global, neither multicast nor reserved. A mapped or NAT64 address is judged by the IPv4
    address it reaches (on an IPv6-only network with DNS64 every IPv4 host is one); a 6to4
    address must be public, and so must the IPv4 address it embeds."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    translated = _translated_v4(ip)
    if translated is not None:
        return is_public(str(translated))
    sixtofour = ip.sixtofour if isinstance(ip, ipaddress.IPv6Address) else None
    if sixtofour is not None and not is_public(str(sixtofour)):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def literal_refusal(host: str) -> str | None:
    """Why a URL's host is refused without resolving it (a literal non-public IP, or a name
    of this machine), or None: the check made when the URL is set."""
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return f"must not name this machine ({host})"
    literal = _literal(host)
    if literal is not None and not is_public(str(literal)):
        return f"must not be a private, loopback or reserved address ({literal})"
    return None


async def checked_address(host: str, port: int) -> str:
    """Resolve `host` (with the event loop's resolver) and return the address to connect to;
    raises `TargetRefusedError` when any address it resolves to is not public,
    `TargetUnresolvedError` when it resolves to none."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetUnresolvedError(f"cannot resolve {host}: {error}") from error
    addresses = [str(info[4][0]) for info in infos]
    # Any, not only the first: the connection may fall back to another one.
    for address in addresses:
        if not is_public(address):
            raise TargetRefusedError(f"refused: {host} resolves to private address {address}")
    if not addresses:
        raise TargetUnresolvedError(f"cannot resolve {host}: no address")
    return addresses[0]


@dataclass(frozen=True)
class Pinned:
    """A request aimed at a checked address: the URL with the address for its host, and what
    keeps the original host for the receiver (the Host header) and for TLS (SNI and the
    certificate's name)."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, str]


def aim(url: httpx.URL, address: str) -> Pinned:
    """`url` sent to `address`, with its own host still in the Host header and in TLS."""
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    return Pinned(
        url.copy_with(host=address.split("%", 1)[0]),
        {"Host": url.netloc.decode("ascii")},
        extensions,
    )


async def pinned(url: str, *, allow_private: bool) -> Pinned:
    """`url` aimed at the address its host resolves to now, once checked; as it is when
    `allow_private` (the receiver may be anywhere, resolved as usual)."""
    try:
        original = httpx.URL(url)
    except httpx.InvalidURL as error:  # one the URL check let by: no retry will fix it
        raise TargetRefusedError(f"refused: not a URL ({error})") from error
    if allow_private:
        return Pinned(original, {}, {})
    port = original.port or (443 if original.scheme == "https" else 80)
    # IDNA-encoded: what DNS and TLS take.
    address = await checked_address(original.raw_host.decode("ascii"), port)
    return aim(original, address)
