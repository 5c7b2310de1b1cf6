"""Listening sockets from /proc/net/{tcp,tcp6,udp,udp6}: what a host offers to the network,
read without root (the owning process needs root; the port does not).

A TCP socket listens in state 0A; a UDP socket is "listening" when it is bound and not
connected (state 07, remote port 0). Addresses are the kernel's hex: an IPv4 address is one
32-bit word in the host's byte order (little-endian on x86 and arm64, the machines this
reads), an IPv6 address four of them. UDP sockets on the ephemeral port range are clients.
Pure: never raises on garbage.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TCP_LISTEN, UDP_UNCONNECTED = "0A", "07"
# Linux's default ip_local_port_range: an unconnected UDP socket on one of these is a client
# that sends with sendto (a resolver, a syslog forwarder), not a service.
EPHEMERAL = range(32768, 61000)


@dataclass(frozen=True, slots=True, order=True)
class Listener:
    proto: str  # tcp, udp
    port: int
    address: str  # as people write it: 0.0.0.0, ::, 127.0.0.1, ::1

    @property
    def loopback_only(self) -> bool:
        try:
            return ipaddress.ip_address(self.address).is_loopback
        except ValueError:
            return False

    @property
    def label(self) -> str:
        return f"{self.proto}/{self.port}"


def _address(hexaddr: str) -> str | None:
    try:
        raw = bytes.fromhex(hexaddr)
    except ValueError:
        return None
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    if len(raw) == 16:
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        addr = ipaddress.IPv6Address(words)
        return str(addr.ipv4_mapped) if addr.ipv4_mapped is not None else str(addr)
    return None


def parse_proc_net(proto: str, text: str) -> list[Listener]:
    """The listening sockets of one /proc/net table (`proto`: tcp, tcp6, udp, udp6)."""
    out = []
    base = proto.rstrip("6")
    want = TCP_LISTEN if base == "tcp" else UDP_UNCONNECTED
    for line in text.split("\n"):
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith(":") or fields[3].upper() != want:
            continue
        local, _, port_hex = fields[1].partition(":")
        remote_port = fields[2].partition(":")[2]
        if base == "udp" and remote_port.strip("0"):
            continue  # a connected UDP socket talks to one peer; it does not listen
        try:
            port = int(port_hex, 16)
        except ValueError:
            continue
        if base == "udp" and port in EPHEMERAL:
            continue
        address = _address(local)
        if address is not None and 0 < port < 65536:
            out.append(Listener(base, port, address))
    return out


def exposed(listeners: list[Listener]) -> dict[str, list[str]]:
    """The ports reachable from beyond the host (`tcp/80` -> the addresses it listens on),
    loopback-only ones left out; one entry per protocol and port."""
    out: dict[str, list[str]] = {}
    for sock in sorted(set(listeners)):
        if not sock.loopback_only:
            addrs = out.setdefault(sock.label, [])
            if sock.address not in addrs:
                addrs.append(sock.address)
    return out
