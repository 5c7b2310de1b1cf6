"""Findings as scripts and auditors read them: the documented JSON (`findings list`, `poll`),
CSV, a Markdown report, the fleet's patch state, and the counts a header shows.

JSON keeps the exact text; CSV and Markdown carry it too, and the CLI prints them (and its
tables) through its terminal-safe printer, so a title cannot drive the reader's terminal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tomconsole.findings.book import public, rank, severity_counts
from tomconsole.models import ScanResult, visible
from tomconsole.monitor.state import HostRow

CSV_FIELDS = (
    "id",
    "host",
    "check",
    "severity",
    "state",
    "title",
    "evidence",
    "first_seen",
    "last_seen",
    "accepted_by",
    "accepted_until",
    "accepted_reason",
)


def patch_json(row: HostRow) -> dict[str, Any]:
    s = row.sample if isinstance(row.sample, ScanResult) else None
    p = s.patches if s is not None else None
    return {
        "host": row.info.name,
        "state": row.state.value,
        "reason": row.reason,
        "scanned_at": s.sampled_at.isoformat() if s else None,
        "scan_seconds": round(s.seconds, 2) if s and s.seconds is not None else None,
        "manager": p.manager if p else None,
        "pending": p.pending if p else None,
        "security": p.security if p else None,
        "reboot_required": p.reboot_required if p else None,
        "running_kernel": p.running_kernel if p else None,
        "newest_kernel": p.newest_kernel if p else None,
    }


def _patch_numbers(rows: Iterable[HostRow]) -> tuple[int, int, int, int, int]:
    """(hosts scanned, hosts with security updates, security updates, reboots, old kernels)."""
    scanned = sec_hosts = sec = reboot = kernel = 0
    for r in rows:
        s = r.sample if isinstance(r.sample, ScanResult) else None
        if s is None:
            continue
        scanned += 1
        p = s.patches
        if p.security:
            sec_hosts, sec = sec_hosts + 1, sec + p.security
        reboot += bool(p.reboot_required)
        kernel += p.kernel_outdated
    return scanned, sec_hosts, sec, reboot, kernel


def patch_summary(rows: Iterable[HostRow]) -> str:
    """`patches (12 scanned): 2 hosts with security updates (4), 1 waiting for a reboot, ...`"""
    scanned, sec_hosts, sec, reboot, kernel = _patch_numbers(rows)
    if not scanned:
        return "patches: no host scanned yet"
    return (
        f"patches ({scanned} scanned): {sec_hosts} host{'s' if sec_hosts != 1 else ''} with security "
        f"updates ({sec}), {reboot} waiting for a reboot, {kernel} on an old kernel"
    )


def patch_counts(rows: Iterable[HostRow]) -> str:
    """The same in the few words a pane's top line has room for."""
    scanned, sec_hosts, sec, reboot, kernel = _patch_numbers(rows)
    if not scanned:
        return "patches: not scanned yet"
    return f"patches: sec upd {sec_hosts} hosts ({sec})  reboot {reboot}  old kernel {kernel}"


def to_json(docs: Iterable[dict[str, Any]]) -> str:
    """The documented `{"findings": [...]}` (exact text, JSON-escaped)."""
    return json.dumps({"findings": [public(d) for d in docs]}, indent=2) + "\n"


def to_csv(docs: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for d in docs:
        a = d.get("accepted") or {}
        row = {**public(d), "accepted_by": a.get("by"), "accepted_until": a.get("until")}
        row["accepted_reason"] = a.get("reason")
        w.writerow({k: visible(str(v)) if v is not None else "" for k, v in row.items()})
    return buf.getvalue()


def _md(text: str) -> str:
    """Text in a Markdown table cell: pipes and line breaks would end the cell or the row;
    control characters are made visible (the report is read on terminals too)."""
    return visible(text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " "))


def to_markdown(docs: list[dict[str, Any]], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    counts = severity_counts(docs)
    lines = [
        "# Security findings",
        "",
        f"Generated {now.isoformat(timespec='seconds')}. Open: "
        + ", ".join(f"{n} {s}" for s, n in counts.items()),
        "",
        "| ID | Severity | State | Host | Check | Title | Evidence | First seen | Last seen |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in sorted(docs, key=lambda d: (rank(d["severity"]), d["host"], d["check"])):
        lines.append(
            "| "
            + " | ".join(
                _md(str(x))
                for x in (
                    d["id"],
                    d["severity"],
                    d["state"],
                    d["host"],
                    d["check"],
                    d["title"],
                    d["evidence"],
                    d["first_seen"][:19],
                    d["last_seen"][:19],
                )
            )
            + " |"
        )
    accepted = [d for d in docs if d["state"] == "accepted" and d.get("accepted")]
    if accepted:
        lines += ["", "## Accepted risks", ""]
        for d in accepted:
            a = d["accepted"]
            lines.append(
                f"- {d['id']} ({_md(d['host'])}): {_md(a['reason'])}; by {_md(a['by'])}, until {a['until']}"
            )
    return "\n".join(lines) + "\n"
