"""Reports dropped in security.drop_folder: imported once and moved to imported/, a report
that cannot be read moved to failed/ beside a note saying why, and nothing imported from it;
a restart finds nothing left to import and duplicates nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tomconsole.config import Config
from tomconsole.demo.security import trivy_sample
from tomconsole.findings.book import FindingBook
from tomconsole.findings.feed import FindingFeed
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store


def _feed(data: Path, drop: Path) -> FindingFeed:
    config = Config.model_validate({"security": {"drop_folder": str(drop)}})
    return FindingFeed(FleetState([]), FindingBook(Store(data)), config, time.monotonic)


async def test_drop_folder_imports_once_and_sets_aside_what_it_cannot_read(tmp_path: Path) -> None:
    drop = tmp_path / "reports"
    (drop / "app-01").mkdir(parents=True)
    (drop / "app-01" / "image.json").write_text(trivy_sample())
    (drop / "web-01").mkdir()
    (drop / "web-01" / "lynis-report.dat").write_text("report_version_major=1\nwarning[]=SSH-7408|x|-|-|\n")
    (drop / "db-01").mkdir()
    (drop / "db-01" / "being-written.json").write_text('{"SchemaVersion": 2, "Resu')
    for report in (drop / "app-01" / "image.json", drop / "web-01" / "lynis-report.dat"):
        os.utime(report, (time.time() - 60, time.time() - 60))  # written a minute ago: settled
    feed = _feed(tmp_path / "data", drop)
    said = await feed.import_dropped()
    assert len(said) == 2  # the report still being written waits for a later look
    assert (drop / "db-01" / "being-written.json").exists()
    assert any("image.json: 5 added, 0 updated, 0 resolved" in s for s in said)
    assert any("lynis-report.dat: not imported: the Lynis report has no `finish=true`" in s for s in said)
    assert (drop / "app-01" / "imported" / "image.json").exists()
    failed = drop / "web-01" / "failed" / "lynis-report.dat"
    assert failed.exists() and "finish=true" in failed.with_name("lynis-report.dat.error").read_text()
    assert {d["host"] for d in feed.book.listing()} == {"app-01"}
    audit = {a["action"]: a for a in feed.book.store.all("audit")}
    assert audit["import-findings"]["who"] == "drop-folder" and audit["import-findings"]["target"] == "app-01"
    failure = audit["import-findings-failed"]
    assert failure["target"] == "web-01" and "finish=true" in failure["result"]
    assert feed.failures == [
        "lynis-report.dat for web-01: the Lynis report has no `finish=true`: the audit did not complete"
    ]
    feed.book.store.close()
    again = _feed(tmp_path / "data", drop)
    assert await again.import_dropped() == []
    assert len(again.book.listing()) == 5
