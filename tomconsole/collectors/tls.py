"""TLS for the HTTPS checks the console runs: the verifying contexts, one per (verify,
ca_file) and shared by every check (loading a CA store costs milliseconds; two hundred HTTPS
checks would load it two hundred times), and the server certificate's facts, read from the
session itself or, when verification failed, from a second handshake that does not verify.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from datetime import datetime
from typing import Any

import httpx
from cryptography import x509

from tomconsole.probes.network import days_until


@functools.cache
def client_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """The context an HTTPS check verifies with: the system's CA store, or `ca_file` (a
    private CA) when given; with `verify: false`, one that checks nothing."""
    if not verify:
        return unverified_context()
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


@functools.cache
def unverified_context() -> ssl.SSLContext:
    """A context that checks nothing: to read a certificate that verification refused."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def cert_facts(resp: httpx.Response, now: datetime) -> dict[str, Any]:
    """The facts of the certificate an answer came over (nothing for plain HTTP)."""
    stream = resp.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return {}
    der = ssl_object.getpeercert(binary_form=True)
    return facts_from_der(der, now) if der else {}


async def unverified_cert(host: str, port: int, within: float, now: datetime) -> dict[str, Any]:
    """The facts of the certificate a server presents, read without verifying (to report its
    expiry when it is not trusted); nothing when no handshake completes within `within` s."""
    try:
        async with asyncio.timeout(within):
            _r, writer = await asyncio.open_connection(
                host, port, ssl=unverified_context(), server_hostname=host
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return {}
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return facts_from_der(der, now) if der else {}
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def facts_from_der(der: bytes, now: datetime) -> dict[str, Any]:
    """Days to expiry, issuer, subject, and (as `_names`) the names it is for: its DNS names
    and IP addresses."""
    cert = x509.load_der_x509_certificate(der)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*sans.get_values_for_type(x509.DNSName), *map(str, sans.get_values_for_type(x509.IPAddress))]
    except x509.ExtensionNotFound:
        names = []
    return {
        "cert_days": days_until(cert.not_valid_after_utc, now),
        "cert_issuer": cert.issuer.rfc4514_string(),
        "cert_subject": cert.subject.rfc4514_string(),
        "_names": names,
    }
