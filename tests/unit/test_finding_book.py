"""The finding book's lifecycle as scripted sequences on an injected clock and a real store:
new, seen again, resolved only by a scan that judged the check, accepted until an expiry
(then reopened), restarts that change nothing, a scan's diff, and the counts the rules read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.findings.actions import apply_finding_action, parse_until
from tomconsole.findings.book import TABLE, FindingBook, finding_key
from tomconsole.models import AcceptRisk, Finding, ImportFindings
from tomconsole.store import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _book(tmp: Path, clock: Clock) -> FindingBook:
    return FindingBook(Store(tmp), clock, "high")


ROOT = Finding("ssh-root-login", "high", "root may log in over SSH with a password", "PermitRootLogin yes")
PORT = Finding("listening-port", "medium", "tcp/8080 listens on 0.0.0.0", "tcp/8080", obj="tcp/8080")
LOGS = Finding("ssh-failed-logins", "info", "not assessed: needs root", assessed=False)
CHECKS = ("ssh-root-login", "listening-port")


def test_scan_lifecycle_and_counts(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    r = book.merge("web-01", "ssh", [ROOT, PORT, LOGS], judged=CHECKS)
    assert len(r.added) == 3 and not r.resolved
    root = book.get(finding_key("web-01", "ssh-root-login", ""))
    assert root is not None and root["id"] == "FND-000001" and root["state"] == "open"
    assert book.get("fnd-000003")["state"] == "not_assessed"  # type: ignore[index]
    counts = book.counts("web-01")
    assert dict(counts.counts)["high"] == 1 and counts.severe == 1

    # Fixed on the host: the next scan that judged the check resolves it; a check it did
    # not judge (cut short) keeps its findings.
    clock.now += timedelta(hours=1)
    r = book.merge("web-01", "ssh", [PORT], judged=("ssh-root-login",))
    assert r.resolved == [finding_key("web-01", "ssh-root-login", "")]
    assert book.get("FND-000001")["state"] == "resolved"  # type: ignore[index]
    assert book.get("FND-000002")["state"] == "open"  # type: ignore[index]
    assert book.get("FND-000003")["state"] == "not_assessed"  # type: ignore[index]
    assert book.counts("web-01").severe == 0
    (scan,) = book.diff()
    assert scan["fixed"] == [finding_key("web-01", "ssh-root-login", "")] and scan["new"] == []

    # It comes back: the same finding (same id) is open again, and the diff says new.
    clock.now += timedelta(hours=1)
    r = book.merge("web-01", "ssh", [ROOT, PORT], judged=CHECKS)
    assert book.get("FND-000001")["state"] == "open"  # type: ignore[index]
    assert book.diff()[0]["new"] == [finding_key("web-01", "ssh-root-login", "")]
    events = [h["event"] for h in book.get("FND-000001")["history"]]  # type: ignore[index]
    assert events == ["found", "resolved", "seen again"]


def test_accept_hides_until_expiry_then_reopens(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    with pytest.raises(ValueError, match="say why"):
        book.accept("FND-000001", "ana", "  ", T0 + timedelta(days=1))
    with pytest.raises(ValueError, match="has passed"):
        book.accept("FND-000001", "ana", "legacy", T0 - timedelta(days=1))
    with pytest.raises(ValueError, match="at most a year"):
        book.accept("FND-000001", "ana", "legacy", T0 + timedelta(days=400))
    doc = book.accept("FND-000001", "ana", "legacy app needs it until migration", T0 + timedelta(days=30))
    assert doc["state"] == "accepted" and doc["accepted"]["by"] == "ana"
    assert book.counts("web-01").severe == 0  # accepted: no incident
    audit = book.store.all("audit")
    assert audit[-1]["action"] == "accept-risk" and audit[-1]["who"] == "ana"
    # Scans keep seeing it: it stays accepted.
    clock.now += timedelta(days=10)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    assert book.get("FND-000001")["state"] == "accepted"  # type: ignore[index]
    assert book.tick() == 0
    # A restart before the expiry changes nothing.
    book.store.close()
    book = _book(tmp_path, clock)
    assert book.get("FND-000001")["state"] == "accepted"  # type: ignore[index]
    clock.now = T0 + timedelta(days=30)
    assert book.tick() == 1
    assert book.get("FND-000001")["state"] == "open"  # type: ignore[index]
    assert book.counts("web-01").severe == 1
    assert book.tick() == 0


def test_restart_keeps_keys_ids_and_does_not_duplicate(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT, PORT], judged=CHECKS)
    before = {k: (r["id"], r["first_seen"]) for k, r in book.records.items()}
    for _ in range(3):
        book.store.close()
        clock.now += timedelta(hours=1)
        book = _book(tmp_path, clock)
        book.merge("web-01", "ssh", [ROOT, PORT], judged=CHECKS)
    assert {k: (r["id"], r["first_seen"]) for k, r in book.records.items()} == before
    assert len(book.store.all(TABLE)) == 2
    assert all(r["last_seen"] == clock.now.isoformat() for r in book.records.values())


def test_unchanged_findings_are_not_rewritten_every_round(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("db:orders", "db", [PORT])
    first = book.get("FND-000001")
    clock.now += timedelta(minutes=1)
    book.merge("db:orders", "db", [PORT])
    assert book.get("FND-000001") is first  # the record was not rewritten
    assert book.diff()[0]["new"] == [] and book.diff()[0]["at"] == clock.now.isoformat()  # the scan was
    clock.now += timedelta(minutes=10)
    book.merge("db:orders", "db", [PORT])
    assert book.get("FND-000001")["last_seen"] == clock.now.isoformat()  # type: ignore[index]


def test_a_scanner_report_replaces_its_own_only(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    cve = Finding("trivy", "critical", "CVE-1 in openssl", obj="CVE-1 openssl")
    cve2 = Finding("trivy", "low", "CVE-2 in zlib", obj="CVE-2 zlib")
    reply = apply_finding_action(book, ImportFindings("web-01", "trivy", (cve, cve2), "ana", "r.json"))
    assert reply == {"ok": True, "host": "web-01", "added": 2, "updated": 0, "resolved": 0, "reopened": 0}
    reply = apply_finding_action(book, ImportFindings("web-01", "trivy", (cve2,), "ana", "r2.json"))
    assert reply["resolved"] == 1
    assert book.get("FND-000001")["state"] == "open"  # type: ignore[index]  # ssh's own, untouched
    assert book.store.all("audit")[-1]["action"] == "import-findings"


def test_accept_action_answers(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    bad = apply_finding_action(book, AcceptRisk("FND-000009", "ana", "x", "30d"))
    assert bad == {"ok": False, "error": "no finding FND-000009"}
    bad = apply_finding_action(book, AcceptRisk("FND-000001", "ana", "x", "someday"))
    assert not bad["ok"] and "give a date" in bad["error"]
    ok = apply_finding_action(book, AcceptRisk("FND-000001", "ana", "x", "2027-01-31"))
    assert ok["ok"] and ok["finding"]["state"] == "accepted"


def test_parse_until() -> None:
    assert parse_until("30d", T0) == T0 + timedelta(days=30)
    day = parse_until("2027-01-31", T0)  # accepted through the 31st: until the next midnight, local
    local = day.astimezone()
    assert (local.date().isoformat(), local.hour, local.minute) == ("2027-02-01", 0, 0)
    assert day.utcoffset() == timedelta(0)  # stored in UTC
    assert parse_until("2027-01-31T18:00+00:00", T0) == datetime(2027, 1, 31, 18, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_until("tomorrow-ish", T0)


def test_rows_for_the_rules_move_only_when_counts_do(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    (row,) = book.rows()
    assert row.info.target == "findings:web-01"
    assert ("", "severe_findings", 1.0) in row.points()
    (again,) = book.rows()
    assert again.version == row.version
    book.accept("FND-000001", "ana", "ok", T0 + timedelta(days=1))
    (after,) = book.rows()
    assert after.version == row.version + 1 and ("", "severe_findings", 0.0) in after.points()


def test_a_check_that_cannot_be_judged_keeps_what_it_found(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(tmp_path, clock)
    book.merge("web-01", "ssh", [ROOT], judged=CHECKS)
    # The config became unreadable: the scan could not judge root login this time.
    not_judged = Finding("ssh-root-login", "info", "not assessed: needs root", assessed=False)
    r = book.merge("web-01", "ssh", [not_judged], judged=("listening-port",))
    assert r.resolved == []
    assert book.get("FND-000001")["state"] == "open"  # type: ignore[index]
    assert book.get("FND-000002")["state"] == "not_assessed"  # type: ignore[index]
    # Readable again, and fixed: both resolve (the not-assessed note too).
    r = book.merge("web-01", "ssh", [], judged=CHECKS)
    assert sorted(r.resolved) == [
        finding_key("web-01", "ssh-root-login", ""),
        finding_key("web-01", "ssh-root-login", "not-assessed"),
    ]


async def test_one_incident_per_host_that_resolves_once_all_are_accepted(tmp_path: Path) -> None:
    from tomconsole.config import Config
    from tomconsole.engine import Engine

    clock = Clock()
    engine = Engine(
        Config.model_validate({"incidents": {"resolve_after": "1m"}}),
        data_dir=tmp_path,
        sources=[],
        wall=clock,
    )
    book = engine.findings
    incidents = engine.incidents
    assert book is not None and incidents is not None
    cves = [Finding("trivy", "critical", f"CVE-{n}", obj=f"CVE-{n} pkg") for n in range(5)]
    book.merge("web-01", "trivy", cves)
    book.merge("db-01", "ssh", [ROOT], judged=CHECKS)
    book.merge("db-01", "ssh2", [PORT])  # medium: below incident_severity (high)
    engine.tick()
    opened = incidents.book.open()
    assert sorted((i.rule, i.host) for i in opened) == [
        ("security-findings", "findings:db-01"),
        ("security-findings", "findings:web-01"),
    ]
    for n in range(5):
        book.accept(
            f"FND-{n + 1:06d}", "ana", "vendor image, fixed next release", clock.now + timedelta(days=7)
        )
    engine.tick()
    clock.now += timedelta(minutes=2)
    engine.tick()
    assert [i.host for i in incidents.book.open()] == ["findings:db-01"]
    engine.close()


async def test_resolved_findings_go_to_the_archive_after_a_while(tmp_path: Path) -> None:
    from tomconsole.config import Config
    from tomconsole.engine import Engine
    from tomconsole.findings.archive import ARCHIVE_FILE

    clock = Clock()
    engine = Engine(Config(), data_dir=tmp_path, sources=[], wall=clock, background=False)
    book = engine.findings
    assert book is not None
    book.merge("web-01", "ssh", [PORT, ROOT], judged=CHECKS)  # PORT is FND-000001, ROOT 000002
    clock.now += timedelta(days=1)
    book.merge("web-01", "ssh", [PORT], judged=CHECKS)  # root login fixed: resolved
    clock.now += timedelta(days=29)  # not yet older than archive_after (30 days)
    await engine.housekeeping()
    assert book.get("FND-000002") is not None
    clock.now += timedelta(days=2)
    engine._archive_due = 0.0  # the hourly look is due
    await engine.housekeeping()
    assert book.get("FND-000002") is None and book.get("FND-000001") is not None  # the open one stays
    engine.close()
    archived = Store(tmp_path, filename=ARCHIVE_FILE, lock=False, read_only=True)
    assert [d["id"] for d in archived.all(TABLE)] == ["FND-000002"]
    archived.close()
    reopened = _book(tmp_path, clock)
    assert [r["id"] for r in reopened.records.values()] == ["FND-000001"]  # gone from the live file
    # Seen again after it was archived: a new finding, a new id (never the archived one's).
    reopened.merge("web-01", "ssh", [ROOT, PORT], judged=CHECKS)
    assert reopened.get(finding_key("web-01", "ssh-root-login", ""))["id"] == "FND-000003"  # type: ignore[index]
