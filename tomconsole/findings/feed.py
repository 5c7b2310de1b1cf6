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
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tomconsole.config import Config
from tomconsole.findings.book import AUDIT, FindingBook, MergeResult
from tomconsole.findings.imports import MAX_BYTES, ReportError, read_report
from tomconsole.models import CheckResult, DbStatus, Finding, HostState, ScanResult
from tomconsole.monitor.state import FleetState
from tomconsole.store import StoreError

log = logging.getLogger(__name__)
DB_SEVERITY = {"critical": "critical", "major": "high", "minor": "medium", "info": "info"}
DB_EVERY_S = 600.0  # unchanged database findings are merged again this often (last seen)


def db_findings(status: DbStatus) -> list[Finding]:
    return [
        Finding(
            f.check,
            DB_SEVERITY.get(f.severity, "medium"),
            f.title,
            f.evidence,
            obj=f.title,
            why="The database pane judged this setting risky (see the database screen).",
            fix="Change the setting named in the evidence, then reload the server.",
        )
        for f in status.findings
    ]


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
            found = db_findings(sample)
            now = self._mono()
            if self._merged.get(key) == found and now < self._db_due.get(key, 0.0):
                return
            self._merged[key], self._db_due[key] = found, now + DB_EVERY_S
            self.book.merge(f"db:{name}", "db", found)
        elif isinstance(sample, CheckResult) and sample.cert_days is not None:
            found = cert_finding(sample, self.config.security.cert_warn_days)
            if self._merged.get(f"check:{check_name}") == found:
                return
            self._merged[f"check:{check_name}"] = found
            self.book.merge(f"check:{check_name}", "network", found)

    # -- the drop folder ----------------------------------------------------------------

    async def import_dropped(self) -> list[str]:
        """Import every report waiting in the drop folder; what happened, one line each. The
        folder is listed and the reports read and parsed on a thread (a Trivy report can be
        megabytes); the merge, one transaction per report, is on the loop."""
        folder = self.config.security.drop_folder
        if folder is None or self.book.store.read_only:
            return []
        read = await asyncio.to_thread(read_dropped, folder)
        return [self._import_one(*one) for one in read]

    def _import_one(self, host: str, report: Path, got: tuple[str, list[Finding]] | str) -> str:
        if isinstance(got, str):
            _move(report, "failed", got)
            log.warning("%s: not imported: %s", report, got)
            return f"{report}: not imported: {got}"
        fmt, found = got
        try:
            result = import_findings(self.book, host, fmt, found, "drop-folder", str(report))
        except StoreError as exc:
            return f"{report}: not imported: {exc}"  # left in place: tried again when writable
        _move(report, "imported", None)
        return f"{report}: {result.summary()}"


def read_dropped(folder: str) -> list[tuple[str, Path, tuple[str, list[Finding]] | str]]:
    """(host, report, (format, findings) or why it cannot be read) for each waiting report."""
    out: list[tuple[str, Path, tuple[str, list[Finding]] | str]] = []
    root = Path(folder).expanduser()
    with contextlib.suppress(OSError):
        for host_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for report in sorted(p for p in host_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
                try:
                    if report.stat().st_size > MAX_BYTES:
                        raise ReportError(f"larger than {MAX_BYTES // 2**20} MiB")
                    got: tuple[str, list[Finding]] | str = read_report(
                        report.read_text(encoding="utf-8", errors="replace")
                    )
                except ReportError as exc:
                    got = str(exc)
                except OSError as exc:
                    got = f"cannot read: {exc.strerror or exc}"
                out.append((host_dir.name, report, got))
    return out


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


def _move(report: Path, where: str, why: str | None) -> None:
    dest = report.parent / where
    with contextlib.suppress(OSError):
        dest.mkdir(exist_ok=True)
        target = dest / report.name
        if target.exists():
            target = dest / f"{report.stem}-{int(datetime.now(UTC).timestamp())}{report.suffix}"
        os.replace(report, target)
        if why is not None:
            target.with_name(target.name + ".error").write_text(why + "\n", encoding="utf-8")
