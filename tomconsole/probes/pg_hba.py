"""Who may log in to a PostgreSQL server from other machines, judged from pg_hba.conf as
`pg_hba_file_rules` reads it (the file on disk now, which the server loads on start and on
reload). Pure: rows in, findings out.

PostgreSQL lets the FIRST line that matches a connection (its type, database, user and
address) decide, so a line is only met by other machines where no earlier line already
covers it: `host all postgres 0.0.0.0/0 reject` before `host all all 0.0.0.0/0
scram-sha-256` keeps the superuser out. Addresses are compared as networks, so
`127.0.0.1/0` is everyone, not loopback. A `+group` user or a host name cannot be resolved
from here: a group is not taken to hold a superuser, a name is taken as other machines.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tomconsole.models import DbFinding
from tomconsole.probes.databases import as_text

Row = Mapping[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HOST_TYPES = ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
EVERYONE: tuple[Network, ...] = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


@dataclass(frozen=True)
class Rule:
    line: str
    type: str
    databases: tuple[str, ...]
    users: tuple[str, ...]
    networks: tuple[Network, ...] | None  # None: a name or samenet (extent unknown)
    local: bool  # only ever this machine (loopback, samehost)
    method: str
    text: str  # the line as pg_hba.conf writes it, for evidence


def _names(value: Any) -> tuple[str, ...]:
    """A database or user field (a text[] from the driver) as names."""
    if isinstance(value, list | tuple):
        return tuple(as_text(v) for v in value)
    return (as_text(value),) if value is not None else ()


def _where(address: str, netmask: str) -> tuple[tuple[Network, ...] | None, bool, str]:
    """The networks a rule's address covers, whether that is only this machine, and how the
    file writes it (`10.0.0.0/8`)."""
    if address == "all":
        return EVERYONE, False, "all"
    if address == "samehost":
        return None, True, address
    try:
        # the netmask as a prefix length (ip_interface takes no IPv6 netmask)
        bits = bin(int(ipaddress.ip_address(netmask))).count("1") if netmask else None
        written = ipaddress.ip_interface(address if bits is None else f"{address}/{bits}").with_prefixlen
        net = ipaddress.ip_network(written, strict=False)
    except ValueError:
        return None, False, address  # samenet, or a host name
    return (net,), net.is_loopback, written


def rules(rows: Sequence[Row]) -> list[Rule]:
    """The TCP lines, in file order (unix-socket lines never admit another machine)."""
    out = []
    for r in rows:
        kind = as_text(r.get("type"))
        if kind not in HOST_TYPES:
            continue
        networks, local, written = _where(as_text(r.get("address")), as_text(r.get("netmask")))
        dbs, users, method = (
            _names(r.get("database")),
            _names(r.get("user_name")),
            as_text(r.get("auth_method")),
        )
        line = as_text(r.get("line_number"))
        text = f"pg_hba.conf line {line}: {kind} {','.join(dbs)} {','.join(users)} {written} {method}"
        out.append(Rule(line, kind, dbs, users, networks, local, method, text))
    return out


def _within(names: tuple[str, ...], wider: tuple[str, ...]) -> bool:
    return "all" in wider or set(names) <= set(wider)


def covers(earlier: Rule, later: Rule, *, same_user: bool = False) -> bool:
    """Every connection `later` matches is matched by `earlier` first. `same_user`: both are
    known to match the user in question, so their user fields are not compared."""
    if earlier.type != "host" and earlier.type != later.type:
        return False  # hostssl before host leaves the plain connections to the later line
    if not _within(later.databases, earlier.databases):
        return False
    if not same_user and not _within(later.users, earlier.users):
        return False
    if earlier.networks is None or later.networks is None:
        return False
    return all(
        any(n.version == e.version and n.subnet_of(e) for e in earlier.networks)  # type: ignore[arg-type]
        for n in later.networks
    )


def _met_from_elsewhere(lines: list[Rule], user: str | None = None) -> list[Rule]:
    """The lines (for `user`, if given) that a connection from another machine can reach:
    not only for this machine and not wholly covered by an earlier line."""
    if user is not None:
        lines = [r for r in lines if "all" in r.users or user in r.users]
    return [
        r
        for i, r in enumerate(lines)
        if not r.local and not any(covers(e, r, same_user=user is not None) for e in lines[:i])
    ]


def hba_findings(
    rows: Sequence[Row], superusers: Sequence[str], remote: bool, where: str
) -> tuple[DbFinding, ...]:
    """`trust` lines other machines can reach, and the first line that lets a superuser in
    from another machine. Critical or major when the server listens beyond loopback
    (`remote`); minor when it does not (yet): one listen_addresses change away. `where`
    says what the server listens on, for the evidence."""
    lines = rules(rows)
    out = []
    trusting = [r for r in _met_from_elsewhere(lines) if r.method == "trust"]
    if trusting:
        out.append(
            DbFinding(
                "pg-trust-remote",
                "critical" if remote else "minor",
                "pg_hba.conf lets other hosts log in without a password (trust)",
                "; ".join(r.text for r in trusting[:3]) + f"; {where}",
            )
        )
    admitted = []
    for name in superusers:
        # the first line that lets it in with a password (a trust line is reported above)
        first = next(
            (r for r in _met_from_elsewhere(lines, name) if r.method != "reject" and r not in trusting), None
        )
        if first is not None:
            admitted.append(f"{name} by {first.text}")
    if admitted:
        out.append(
            DbFinding(
                "pg-superuser-remote",
                "major" if remote else "minor",
                "superusers may log in from other hosts",
                "; ".join(admitted[:3]) + f"; {where}",
            )
        )
    return tuple(out)
