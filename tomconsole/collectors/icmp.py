"""ICMP echo for the checks the console runs itself: one socket per address family shared by
every check in the process, its replies handed to the check that is waiting for them.

Why not a socket per check: as root a raw ICMP socket receives every ICMP packet the machine
gets, so fifty checks with a socket each parse every reply fifty times, and a reply carries
no more than a 16-bit identifier to tell whose it is (two checks that drew the same one would
take each other's replies). One socket reads each reply once and matches it by the address
it came from and a sequence number unique in the process. icmplib, which this replaces here,
gives an async reply without its source address, so it cannot share a socket this way.

An unprivileged datagram ICMP socket is used where `net.ipv4.ping_group_range` allows it
(the kernel then keeps other processes' replies away), else a raw one when running as root.
The socket is opened while some check is waiting for echoes and closed after the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import struct
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

PAYLOAD = bytes(range(48))
NOT_PERMITTED = (
    "ICMP not permitted: unprivileged ICMP sockets are off (net.ipv4.ping_group_range) and this is "
    "not root; run the check from a host instead (from: [HOST])"
)


class EchoNotPermitted(Exception):
    """Neither an unprivileged nor a raw ICMP socket may be opened by this process."""


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _request(family: int, ident: int, seq: int) -> bytes:
    kind = 8 if family == socket.AF_INET else 128  # echo request
    head = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    if family == socket.AF_INET6:
        return head + PAYLOAD  # the kernel fills in an ICMPv6 checksum
    return struct.pack("!BBHHH", kind, 0, _checksum(head + PAYLOAD), ident, seq) + PAYLOAD


_raw_only: set[int] = set()  # families where a datagram socket was refused: not tried again


@dataclass
class _EchoSocket:
    """One family's socket and the echoes waiting for a reply on it."""

    family: int
    sock: socket.socket
    raw: bool
    ident: int
    waiting: dict[tuple[str, int], tuple[asyncio.Future[float], float]] = field(default_factory=dict)
    users: int = 0

    @classmethod
    def open(cls, family: int) -> _EchoSocket:
        """A datagram ICMP socket where allowed, else a raw one; EchoNotPermitted when neither."""
        proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
        for raw in (False, True):
            if not raw and family in _raw_only:
                continue
            try:
                sock = socket.socket(family, socket.SOCK_RAW if raw else socket.SOCK_DGRAM, proto)
            except PermissionError:
                _raw_only.add(family)
                continue
            sock.setblocking(False)
            # a datagram socket's replies carry the socket's own identifier, whatever was sent
            ident = sock.getsockname()[1] if not raw else os.getpid() & 0xFFFF
            return cls(family, sock, raw, ident)
        raise EchoNotPermitted(NOT_PERMITTED)

    def readable(self) -> None:
        """Read every reply queued on the socket and hand each to the echo waiting for it."""
        reply = 0 if self.family == socket.AF_INET else 129  # echo reply
        while True:
            try:
                packet, source = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an error queued on the socket (an ICMP error): the echo stays lost
            now = time.perf_counter()
            start = (packet[0] & 0x0F) * 4 if self.raw and self.family == socket.AF_INET else 0
            if len(packet) < start + 8 or packet[start] != reply:
                continue
            ident, seq = struct.unpack_from("!HH", packet, start + 4)
            if self.raw and ident != self.ident:
                continue  # another process's echo (raw sockets see every reply)
            waiter = self.waiting.pop((source[0], seq), None)
            if waiter is not None and not waiter[0].done():
                waiter[0].set_result(max(0.0, (now - waiter[1]) * 1000))


_sockets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _EchoSocket]] = (
    weakref.WeakKeyDictionary()
)
_seq = itertools.count(int.from_bytes(os.urandom(2)))


@contextlib.contextmanager
def _socket_for(family: int) -> Iterator[_EchoSocket]:
    loop = asyncio.get_running_loop()
    mine = _sockets.setdefault(loop, {})
    es = mine.get(family)
    if es is None:
        es = mine[family] = _EchoSocket.open(family)
        loop.add_reader(es.sock.fileno(), es.readable)
    es.users += 1
    try:
        yield es
    finally:
        es.users -= 1
        if es.users == 0:
            loop.remove_reader(es.sock.fileno())
            es.sock.close()
            del mine[family]


async def echoes(address: str, count: int, spacing: float, within: float) -> tuple[int, list[float]]:
    """`count` echo requests to a numeric address, `spacing` apart, their replies awaited up to
    `within` s; (requests sent, answer times in ms). A lost echo costs no wait of its own.
    Raises EchoNotPermitted, or OSError when a request cannot be sent (no route)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    sent: list[tuple[tuple[str, int], asyncio.Future[float]]] = []
    with _socket_for(family) as es:
        try:
            for n in range(count):
                seq = next(_seq) & 0xFFFF
                fut: asyncio.Future[float] = loop.create_future()
                es.waiting[(address, seq)] = (fut, time.perf_counter())
                sent.append(((address, seq), fut))
                es.sock.sendto(_request(family, es.ident, seq), (address, 0))
                if n + 1 < count:
                    if loop.time() + spacing >= deadline:
                        break
                    await asyncio.sleep(spacing)
            wait = min(2.0, max(0.5, within - count * spacing), deadline - loop.time())
            if wait > 0:
                await asyncio.wait([f for _k, f in sent], timeout=wait)
        finally:
            for key, fut in sent:
                es.waiting.pop(key, None)
                fut.cancel()
    return len(sent), [f.result() for _k, f in sent if f.done() and not f.cancelled()]
