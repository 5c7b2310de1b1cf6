"""The demo fleet's network peers, real servers on loopback for the network pane's checks: two
HTTPS sites (one certificate good for 90 days, one expiring in 9), a DNS server whose answer
flips every FLIP_S seconds, and a port nothing listens on.

Certificates come from a demo CA written beside the fleet's config, which the checks name as
their `ca_file`, so verification is real. Nothing here listens beyond 127.77.1.x.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BASE = "127.77.1."
FLIP_S = 120.0  # how often the demo DNS name changes its answer
DNS_NAME = "www.demo.test"
ANSWERS = ("127.77.2.10", "127.77.2.11")


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("tomconsole demo CA"))
        .issuer_name(_name("tomconsole demo CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], address: str, days: float, dns_name: str = ""
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server certificate for `address` (and `dns_name`), valid for `days` from now."""
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(address))]
    if dns_name:
        names.append(x509.DNSName(dns_name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name or address))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_pair(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, directory: Path, stem: str) -> Path:
    """The key and certificate as one PEM file (what ssl.load_cert_chain reads)."""
    path = directory / f"{stem}.pem"
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


async def answer_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
        async with asyncio.timeout(5):
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"status": "ok"}\n'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
    writer.close()


class _FlippingDns(asyncio.DatagramProtocol):
    """Answers A queries for DNS_NAME with one of ANSWERS, changing every FLIP_S seconds."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # (uvloop's is not a subclass)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # garbage on the demo port: no answer, as a server would
            return
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        q = query.question[0] if query.question else None
        if q is None or q.name.to_text().rstrip(".").lower() != DNS_NAME:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif q.rdtype == dns.rdatatype.A:
            answer = ANSWERS[int(time.time() // FLIP_S) % len(ANSWERS)]
            reply.answer.append(dns.rrset.from_text(q.name, 30, "IN", "A", answer))
        assert self.transport is not None
        self.transport.sendto(reply.to_wire(), addr)


class DemoPeers:
    """`await start()`, then `checks_yaml()` for the config; `stop()` ends every server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_path = directory / "demo-ca.pem"
        self._servers: list[asyncio.Server] = []
        self._dns: asyncio.DatagramTransport | None = None
        self.ports: dict[str, int] = {}

    async def start(self) -> None:
        ca = make_ca()
        self.ca_path.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
        for stem, address, days in (("shop", BASE + "1", 90), ("billing", BASE + "2", 9)):
            pem = write_pair(*make_leaf(ca, address, days), self.directory, stem)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(pem)
            server = await asyncio.start_server(answer_http, address, 0, ssl=ctx)
            self._servers.append(server)
            self.ports[stem] = int(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_FlippingDns, local_addr=(BASE + "3", 0))
        self._dns = transport
        self.ports["dns"] = int(transport.get_extra_info("sockname")[1])
        with socket.socket() as s:  # a port nothing listens on: connections to it are refused
            s.bind((BASE + "4", 0))
            self.ports["refused"] = int(s.getsockname()[1])

    def checks_yaml(self, vantage: list[str], lossy: str) -> list[str]:
        """The demo's `network:` section: every check against these peers, the ICMP link check
        from the console and from `vantage` hosts (`lossy` drops about a fifth of its echoes)."""
        p, ca = self.ports, self.ca_path
        froms = ", ".join(["console", *vantage])
        return [
            "network:",
            "  interval: 10s",
            "  timeout: 4s",
            "  checks:",
            f'    - {{name: shop, kind: http, url: "https://{BASE}1:{p["shop"]}/health", ca_file: {ca},'
            " body: ok, tags: [web]}",
            f'    - {{name: billing, kind: http, url: "https://{BASE}2:{p["billing"]}/health", ca_file: {ca},'
            " tags: [web]}",
            f'    - {{name: www-dns, kind: dns, query: {DNS_NAME}, type: A, resolver: "{BASE}3:{p["dns"]}"}}',
            f'    - {{name: smtp-relay, kind: tcp, target: "{BASE}4:{p["refused"]}", group: mail}}',
            f"    - {{name: branch-link, kind: icmp, target: {BASE}5, count: 5, interval: 5s,"
            f" from: [{froms}]}}",
            f"# {lossy} sees about 20 % loss on branch-link; the others see none",
        ]

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        if self._dns is not None:
            self._dns.close()
        for s in self._servers:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await s.wait_closed()
        self._servers.clear()
