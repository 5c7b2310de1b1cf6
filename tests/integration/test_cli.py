"""The command line as a script meets it: real processes, real SSH, documented exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tomconsole.demo.fleet import DemoFleet


async def _run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_poll_once_json_on_demo_fleet(demo_fleet: DemoFleet) -> None:
    code, out, _ = await _run("--config", str(demo_fleet.config_path), "poll", "--once", "--format", "json")
    doc = json.loads(out)
    states = {h["name"]: h["state"] for h in doc["hosts"]}
    assert states[demo_fleet.hosts[-1].spec.name] == "unreachable"
    assert states[demo_fleet.hosts[0].spec.name] == "up"
    assert code == 1  # a host is not up


async def test_poll_count_jsonl_on_same_connections(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    # Only the healthy hosts: every host is up, so the exit code is 0.
    healthy = demo_fleet.hosts[:3]
    text = demo_fleet.config_path.read_text().split("hosts:\n")[0].replace("local: true", "local: false")
    text += "hosts:\n" + "".join(
        f"  - {{name: {h.spec.name}, address: {h.address}, port: {h.port}}}\n" for h in healthy
    )
    cfg = tmp_path / "healthy.yaml"
    cfg.write_text(text)
    code, out, err = await _run(
        "--config", str(cfg), "poll", "--count", "2", "--interval", "0.5", "--format", "jsonl"
    )
    lines = out.strip().splitlines()
    assert len(lines) == 2, err
    docs = [json.loads(line) for line in lines]
    assert all(h["state"] == "up" for d in docs for h in d["hosts"])
    assert docs[1]["hosts"][0]["rx_bytes_per_s"] is not None  # a rate needs the first round
    assert code == 0


async def test_poll_table(demo_fleet: DemoFleet) -> None:
    _, out, _ = await _run("--config", str(demo_fleet.config_path), "poll", "--format", "table")
    assert out.splitlines()[0].startswith("HOST")
    assert "hostkey_changed" in out


async def test_config_error_exit_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts:\n  - name: a\n    address: b\n    pasword: x\n")
    code, _, err = await _run("--config", str(bad), "poll", "--once")
    assert code == 2
    assert f"{bad}:4: hosts[0].pasword: unknown key" in err


async def test_check_config(tmp_path: Path) -> None:
    good = Path(__file__).parents[2] / "config.example.yaml"
    code, out, _ = await _run("check-config", str(good))
    assert code == 0 and "ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("ssh:\n  password: hunter2\n")
    code, _, err = await _run("check-config", str(bad))
    assert code == 2 and f"{bad}:2: ssh.password: plaintext secrets" in err


async def test_no_config_polls_the_local_host(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        "poll",
        "--once",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home / ".config")},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    doc = json.loads(out)
    assert [h["name"] for h in doc["hosts"]] == ["localhost"]
    assert doc["hosts"][0]["state"] == "up" and proc.returncode == 0
