"""Findings end to end: the SSH scan against OpenSSH's sshd on loopback as an unprivileged
user, a real Lynis report from Debian's lynis run on this machine, Trivy samples, the demo
fleet's insecure hosts, and the `findings` commands as a shell uses them."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.harness.apt import Unavailable, ensure_packages
from tests.integration.conftest import Sshd
from tests.integration.test_cli import _run
from tomconsole.config import Config
from tomconsole.demo.fleet import DemoFleet
from tomconsole.demo.security import trivy_sample
from tomconsole.engine import Engine
from tomconsole.models import AcceptRisk


class Wall:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _config(sshd: Sshd, address: str, watched: Path) -> Config:
    kw = sshd.fleet.target_kwargs()
    return Config.model_validate(
        {
            "ssh": {
                "user": kw["user"],
                "identity_file": kw["identity_file"],
                "known_hosts": kw["known_hosts"],
            },
            "hosts": [{"name": "lab-01", "address": address, "port": kw["port"]}],
            "security": {"world_writable_paths": [str(watched)], "allowed_ports": ["tcp/22"]},
        }
    )


async def _round(config: Config, data: Path, wall: Wall) -> Engine:
    engine = Engine(config, data_dir=data, background=False, wall=wall)
    await engine.round()
    return engine


def _live(engine: Engine) -> dict[str, dict[str, object]]:
    assert engine.findings is not None
    return {f"{d['check']}|{d['obj']}": d for d in engine.findings.listing()}


async def test_scan_accept_fix_and_restart_over_real_sshd(sshd: Sshd, tmp_path: Path) -> None:
    watched = Path(tempfile.mkdtemp(prefix="tomconsole-ww-"))
    watched.chmod(0o755)
    loose = watched / "job.sh"
    loose.write_text("#!/bin/sh\n")
    loose.chmod(0o666)  # chmod, not umask: world-writable on purpose
    wall = Wall()
    config = _config(sshd, sshd.normal[0], watched)
    try:
        engine = await _round(config, tmp_path, wall)
        try:
            found = _live(engine)
            scan = engine.snapshot(check_stale=False).scans[0]
            assert scan.state.value == "up", scan.reason
            # This machine's real state, as the unprivileged login sees it.
            ww = found[f"world-writable|{loose}"]
            assert ww["state"] == "open" and ww["severity"] == "medium"
            assert found["ssh-failed-logins|not-assessed"]["state"] == "not_assessed"
            # The login may read this machine's sshd_config: the SSH checks were judged.
            assert {"ssh-root-login", "ssh-password-auth"} <= set(scan.sample.assessed)
            # Accept it: hidden from the counts until the expiry, on an injected clock.
            reply = await engine.act(AcceptRisk(str(ww["id"]), "ana", "build box", "2d"))
            assert reply["ok"], reply
            assert engine.findings is not None
            assert (
                dict(engine.findings.counts("lab-01").counts)["medium"]
                == len([d for d in found.values() if d["severity"] == "medium"]) - 1
            )
            wall.now += timedelta(days=3)
            await engine.housekeeping()
            assert engine.findings.get(str(ww["id"]))["state"] == "open"  # type: ignore[index]
        finally:
            await engine.stop()
        before = {k: (d["id"], d["first_seen"]) for k, d in found.items()}

        # Fixed on the host; the console restarts and scans on connect: it resolves, the rest
        # keep their ids and first-seen times, nothing is duplicated.
        loose.chmod(0o644)
        wall.now += timedelta(hours=1)
        engine = await _round(config, tmp_path, wall)
        try:
            after = _live(engine)
            assert f"world-writable|{loose}" not in after
            assert engine.findings is not None
            fixed = engine.findings.get(str(ww["id"]))
            assert fixed is not None and fixed["state"] == "resolved"
            assert {k: (d["id"], d["first_seen"]) for k, d in after.items()} == {
                k: v for k, v in before.items() if k != f"world-writable|{loose}"
            }
            assert len(engine.findings.records) == len(before)
            diff = engine.findings.diff()[0]
            assert diff["fixed"] == [f"lab-01|world-writable|{loose}"]
        finally:
            await engine.stop()
    finally:
        shutil.rmtree(watched, ignore_errors=True)


def _lynis_report(work: Path) -> Path:
    try:
        ensure_packages("lynis", ["lynis"], ["/usr/sbin/lynis"])
    except Unavailable as exc:
        service_unavailable(str(exc))
    report = work / "lynis-report.dat"
    subprocess.run(
        [
            "/usr/sbin/lynis",
            "audit",
            "system",
            "--quick",
            "--no-colors",
            "--quiet",
            "--report-file",
            str(report),
            "--logfile",
            str(work / "lynis.log"),
            "--tests-from-group",
            "ssh authentication",
        ],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=work,
    )
    if not report.exists():
        pytest.fail("lynis wrote no report")
    return report


async def test_real_lynis_report_import_and_a_malformed_one(tmp_path: Path) -> None:
    report = _lynis_report(tmp_path)
    lines = report.read_text().splitlines()
    distinct = {ln for ln in lines if ln.startswith(("warning[]=", "suggestion[]="))}
    assert distinct, "lynis found nothing to say about this machine"
    data = tmp_path / "data"
    code, out, err = await _run(
        "findings", "import", str(report), "--host", "lab-01", "--data-dir", str(data)
    )
    assert code == 0, err
    assert out.startswith(f"lab-01: {len(distinct)} added, 0 updated, 0 resolved (lynis")
    assert "not a host of `hosts:`" in err  # said, and accepted
    code, out, _ = await _run("findings", "list", "--format", "json", data=data)
    docs = json.loads(out)["findings"]
    assert len(docs) == len(distinct)
    assert sum(d["severity"] == "medium" for d in docs) == sum(ln.startswith("warning[]=") for ln in distinct)
    assert set(docs[0]) == {
        "id",
        "host",
        "check",
        "severity",
        "title",
        "evidence",
        "state",
        "first_seen",
        "last_seen",
        "accepted",
    }
    code, _, err = await _run("findings", "import", str(report), "--host", "", data=data)
    assert code == 2 and "not a host or image name" in err

    # Cut short (no finish=true): one line, exit 2, nothing changed.
    cut = tmp_path / "cut.dat"
    cut.write_text("\n".join(ln for ln in lines if ln != "finish=true") + "\n")
    store = data / "tomconsole.json"
    before = store.read_bytes()
    code, out, err = await _run("findings", "import", str(cut), "--host", "lab-01", data=data)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "finish=true" in err
    assert store.read_bytes() == before

    # The same report again: nothing new; a Trivy report beside it leaves Lynis's alone.
    code, out, _ = await _run("findings", "import", str(report), "--host", "lab-01", data=data)
    assert code == 0 and out.startswith("lab-01: 0 added")
    trivy = tmp_path / "image.json"
    trivy.write_text(trivy_sample())
    code, out, _ = await _run(
        "--data-dir", str(data), "findings", "import", str(trivy), "--host", "lab-01", "--format", "trivy"
    )
    assert code == 0 and out.startswith("lab-01: 5 added, 0 updated, 0 resolved (trivy")


async def test_accept_and_export_from_the_shell(tmp_path: Path) -> None:
    trivy = tmp_path / "image.json"
    trivy.write_text(trivy_sample())
    data = tmp_path / "data"
    assert (await _run("findings", "import", str(trivy), "--host", "app-01", data=data))[0] == 0
    code, out, err = await _run(
        "findings", "accept", "FND-000001", "--reason", "no fix yet", "--until", "2d", data=data
    )
    assert code == 0 and out.startswith("FND-000001: accepted until "), err
    code, _, err = await _run(
        "findings", "accept", "FND-000002", "--reason", "x", "--until", "2001-01-01", data=data
    )
    assert code == 1 and "has passed" in err
    code, out, _ = await _run("findings", "export", "--format", "csv", data=data)
    rows = out.strip().split("\n")
    assert rows[0].startswith("id,host,check,severity,state") and len(rows) == 6
    code, out, _ = await _run("findings", "export", "--format", "markdown", data=data)
    assert "## Accepted risks" in out and "no fix yet" in out
    code, out, _ = await _run("findings", "show", "FND-000001", data=data)
    assert "accepted:   by " in out and "history:" in out


async def test_the_demo_fleet_is_insecure_on_purpose(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    code, out, _ = await _run("--config", str(demo_fleet.config_path), "poll", "--once", data=tmp_path)
    doc = json.loads(out)
    assert code == 1  # a demo host is down on purpose
    by = {(f["host"], f["check"]): f for f in doc["findings"]}
    names = [h.spec.name for h in demo_fleet.hosts]
    assert by[(names[5], "ssh-root-login")]["severity"] == "high"  # an Include'd PermitRootLogin yes
    assert by[(names[1], "listening-port")]["title"].startswith("tcp/6379 listens on 0.0.0.0")
    assert by[(names[2], "security-updates")]["severity"] == "high"
    assert (names[0], "ssh-failed-logins") in by
    trivy = sorted(f["severity"] for f in doc["findings"] if f["host"] == names[1] and f["check"] == "trivy")
    assert trivy == ["critical", "high", "info", "low", "medium"]  # the sample report, dropped and imported
    assert (demo_fleet.directory / "reports" / names[1] / "imported" / "trivy-app-image.json").exists()
    patches = {p["host"]: p for p in doc["patches"]}
    assert patches[names[2]]["security"] == 2 and patches[names[0]]["manager"] == "apt"
    rules = {i["rule"] for i in doc["incidents"] if i.get("rule")}
    assert "security-findings" in rules
    # The hostile host's account comment (markup, a screen clear, a retitle) printed safely.
    code, out, _ = await _run("findings", "list", data=tmp_path)
    assert code == 0 and "system account backup has a login shell" in out
    code, out, _ = await _run("findings", "show", by[(names[4], "system-account-shell")]["id"], data=tmp_path)
    assert code == 0 and "\x1b" not in out and "\\x1b[2J" in out
    for fmt in ("markdown", "csv"):
        code, out, _ = await _run("findings", "export", "--format", fmt, data=tmp_path)
        assert code == 0 and "\x1b" not in out and "\\x1b[2J" in out and "[bold red]pwned[/]" in out
    code, out, _ = await _run("findings", "export", "--format", "json", data=tmp_path)
    assert "\\u001b[2J" in out  # JSON keeps the exact text, escaped
