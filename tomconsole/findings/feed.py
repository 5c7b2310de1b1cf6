"""What feeds the finding book: the SSH scans (`scan:` targets), the database pane's security
facts (`db:` targets), the certificates of the network pane's HTTPS checks (`check:`), and
reports dropped in the watched folder (`security.drop_folder`: `<folder>/<host>/<report>`,
moved to `imported/` once read, or to `failed/` beside a `.error` note saying why).

Listens to the fleet like the incident engine does; a store that cannot be written leaves
the book as it was (the store's listeners say why, once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.collectors.dropfolder import set_aside, waiting
from tomconsole.config import Config
from tomconsole.findings.book import AUDIT, FindingBook, MergeResult
from tomconsole.findings.imports import ReportError, read_report
from tomconsole.models import CheckResult, DbStatus, Finding, HostState, ScanResult
from tomconsole.monitor.state import FleetState
from tomconsole.store import StoreError

log = logging.getLogger(__name__)
TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,252}")
DB_SEVERITY = {"critical": "critical", "major": "high", "minor": "medium", "info": "info"}
DB_EVERY_S = 600.0  # unchanged database findings are merged again this often (last seen)


DB_CHECKS = {
    "postgresql": ("pg-trust-remote", "pg-superuser-remote", "pg-tls-off", "pg-md5-passwords"),
    "mariadb": ("mysql-tls-off", "mysql-no-password-remote", "mysql-superuser-remote"),
    "redis": ("redis-no-auth",),
}
# What the database collectors' notes say they could not judge (collectors/db_common.py, db_redis.py)
DB_UNJUDGED = {
    "who may log in from other hosts: not assessed": (
        "pg-trust-remote",
        "pg-superuser-remote",
        "mysql-no-password-remote",
        "mysql-superuser-remote",
    ),
    "a client without a password: not assessed": ("redis-no-auth",),
}


def db_findings(status: DbStatus) -> tuple[list[Finding], list[str]]:
    """A database's security facts as findings (one per check: the key is database + check),
    and the checks this round judged: one its login could not judge keeps what it found."""
    found = [
        Finding(
            f.check,
            DB_SEVERITY.get(f.severity, "medium"),
            f.title,
            f.evidence,
            why="The database pane judged this setting risky (see the database screen).",
            fix="Change the setting named in the evidence, then reload the server.",
        )
        for f in status.findings
    ]
    judged = list(DB_CHECKS.get(status.engine, ()))
    for note in status.notes:
        for said, checks in DB_UNJUDGED.items():
            if note.startswith(said):
                judged = [c for c in judged if c not in checks]
                found += [
                    Finding(c, "info", f"not assessed: {note}", assessed=False)
                    for c in checks
                    if c in DB_CHECKS.get(status.engine, ())
                ]
    return found, judged


def cert_finding(result: CheckResult, warn_days: int) -> list[Finding]:
    days = result.cert_days
    if days is None or days >= warn_days:
        return []
    severity = "critical" if days < 0 else "high" if days < 7 else "medium"
    what = "expired" if days < 0 else f"expires in {days:.0f} days"
    return [
        Finding(
            "cert-expiry",
            severity,
            f"the certificate {what}",
            f"subject {result.cert_subject or '?'}, issuer {result.cert_issuer or '?'}, {days:.1f} days left",
            why="An expired certificate stops every client that checks it: an outage, not a warning.",
            fix="Renew the certificate and reload the service (or fix the renewal job).",
        )
    ]


class FindingFeed:
    def __init__(
        self, fleet: FleetState, book: FindingBook, config: Config, mono: Callable[[], float]
    ) -> None:
        self.fleet, self.book, self.config = fleet, book, config
        self._mono = mono
        self._merged: dict[str, Any] = {}
        self._db_due: dict[str, float] = {}
        self._stuck: set[Path] = set()  # reports that could not be moved out of the drop folder
        self.failures: list[str] = []  # the last reports that could not be imported, and why
        fleet.subscribe(self.observe)

    def observe(self, key: str) -> None:
        if self.book.store.read_only or not key.startswith(("scan:", "db:", "check:")):
            return
        view = self.fleet.views.get(key)
        if view is None or view.state is not HostState.UP or view.sample is None:
            return
        with contextlib.suppress(StoreError):  # reported by the store's listeners
            self._merge(key, view.info.name, view.info.fact("name") or view.info.name, view.sample)

    def _merge(self, key: str, name: str, check_name: str, sample: object) -> None:
        if isinstance(sample, ScanResult):
            if self._merged.get(key) == sample.sampled_at:
                return  # between scans: the last one stands
            self._merged[key] = sample.sampled_at
            self.book.merge(name, "ssh", sample.findings, judged=sample.assessed)
        elif isinstance(sample, DbStatus):
            found, judged = db_findings(sample)
            now = self._mono()
            if self._merged.get(key) == found and now < self._db_due.get(key, 0.0):
                return
            self._merged[key], self._db_due[key] = found, now + DB_EVERY_S
            self.book.merge(f"db:{name}", "db", found, judged=judged)
        elif isinstance(sample, CheckResult) and sample.cert_days is not None:
            found = cert_finding(sample, self.config.security.cert_warn_days)
            if self._merged.get(f"check:{check_name}") == found:
                return
            self._merged[f"check:{check_name}"] = found
            self.book.merge(f"check:{check_name}", "network", found, judged=("cert-expiry",))

    # -- the drop folder ----------------------------------------------------------------

    async def import_dropped(self) -> list[str]:
        """Import every settled report waiting in the drop folder; what happened, one line
        each. Listing, reading and parsing run on a thread (a Trivy report can be megabytes);
        each merge is one transaction, and a report is moved to imported/ only once the
        store says its findings are on disk. A report that cannot be moved is not imported
        again while this process runs."""
        folder = self.config.security.drop_folder
        if folder is None or self.book.store.read_only:
            return []
        read = await asyncio.to_thread(_read_and_parse, folder)
        said = []
        for host, report, got in read:
            if report in self._stuck:
                continue
            if isinstance(got, str):
                self._aside(report, "failed", got)
                log.warning("%s: not imported: %s", report, got)
                said.append(f"{report}: not imported: {got}")
                self.failures = [*self.failures, f"{report.name} for {host}: {got}"][-5:]
                with contextlib.suppress(StoreError):
                    self.book.store.append(
                        AUDIT,
                        {
                            "at": self.book.now().isoformat(),
                            "who": "drop-folder",
                            "action": "import-findings-failed",
                            "target": host,
                            "file": str(report),
                            "result": got,
                        },
                    )
                continue
            fmt, found = got
            try:
                result = import_findings(self.book, host, fmt, found, "drop-folder", str(report))
                await self.book.store.durable()
            except StoreError as exc:
                said.append(f"{report}: not imported: {exc}")  # left in place: tried when writable
                continue
            self._aside(report, "imported", None)
            said.append(f"{report}: {result.summary()}")
        return said

    def _aside(self, report: Path, where: str, why: str | None) -> None:
        if not set_aside(report, where, why):
            self._stuck.add(report)
            log.warning("%s: cannot be moved to %s/: it is not imported again until a restart", report, where)


def _read_and_parse(folder: str) -> list[tuple[str, Path, tuple[str, list[Finding]] | str]]:
    """Each settled report, read and parsed (its format from its name where that says it:
    `*.json` is Trivy's, `*.dat` Lynis's), or why it cannot be imported."""
    out: list[tuple[str, Path, tuple[str, list[Finding]] | str]] = []
    for host, report, text, why in waiting(folder):
        if text is None:
            out.append((host, report, why or "cannot read"))
            continue
        if not valid_target(host):
            out.append((host, report, f"{host!r} is not a usable host name"))
            continue
        fmt = "trivy" if report.suffix == ".json" else "lynis" if report.suffix == ".dat" else None
        try:
            out.append((host, report, read_report(text, fmt)))
        except ReportError as exc:
            out.append((host, report, str(exc)))
    return out


def valid_target(name: str) -> bool:
    """A name findings can be kept under: a host, or an image (`registry/app:1.4`)."""
    return bool(TARGET_NAME.fullmatch(name))


def import_findings(
    book: FindingBook, host: str, fmt: str, found: list[Finding] | tuple[Finding, ...], by: str, file: str
) -> MergeResult:
    """A scanner's report for one host, merged and audited in one transaction."""
    with book.store.transaction():
        result = book.merge(host, fmt, found)
        book.store.append(
            AUDIT,
            {
                "at": book.now().isoformat(),
                "who": by,
                "action": "import-findings",
                "target": host,
                "scanner": fmt,
                "file": file,
                "result": result.summary(),
            },
        )
    return result
