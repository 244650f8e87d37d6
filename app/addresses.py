"""Which network addresses this server refuses to call on a user's say-so (webhook URLs, storage
endpoints): private, loopback, link-local, multicast, reserved, unspecified; an IPv4-mapped IPv6
address counts as its IPv4 address. Label Studio's SSRF rule."""

from __future__ import annotations

import ipaddress
import socket


def reserved(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


def resolved(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` resolves to (raises OSError or UnicodeError when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
