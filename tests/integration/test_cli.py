"""The command line as a script meets it: real processes, real SSH, documented exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tomconsole.demo.fleet import DemoFleet


async def _run(*args: str, cwd: Path | None = None, data: Path | None = None) -> tuple[int, str, str]:
    extra = ["--data-dir", str(data)] if data is not None else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        *extra,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_poll_once_json_on_demo_fleet(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    code, out, _ = await _run(
        "--config", str(demo_fleet.config_path), "poll", "--once", "--format", "json", data=tmp_path
    )
    doc = json.loads(out)
    states = {h["name"]: h["state"] for h in doc["hosts"]}
    assert states[demo_fleet.hosts[-1].spec.name] == "unreachable"
    assert states[demo_fleet.hosts[0].spec.name] == "up"
    assert code == 1  # a host is not up
    # the network pane's checks, against the demo's real peers, from the console and hosts
    checks = {c["target_name"]: c for c in doc["network"]["checks"]}
    assert checks["check:shop"]["state"] == "up" and checks["check:shop"]["cert_days"] > 80
    assert 8 < checks["check:billing"]["cert_days"] <= 9  # what cert-expiring fires on
    assert checks["check:www-dns"]["state"] == "up" and checks["check:www-dns"]["answer"]
    assert checks["check:smtp-relay"]["state"] == "unreachable"
    lossy = checks[f"check:branch-link@{demo_fleet.hosts[0].spec.name}"]  # run over its SSH connection
    assert lossy["from"] == demo_fleet.hosts[0].spec.name and lossy["rounds"] == 1
    assert lossy["latency_ms"]["last"] is not None or lossy["loss_pct"] == 100.0


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
        "--config", str(cfg), "poll", "--count", "2", "--interval", "0.5", "--format", "jsonl", data=tmp_path
    )
    lines = out.strip().splitlines()
    assert len(lines) == 2, err
    docs = [json.loads(line) for line in lines]
    assert all(h["state"] == "up" for d in docs for h in d["hosts"])
    assert docs[1]["hosts"][0]["rx_bytes_per_s"] is not None  # a rate needs the first round
    assert code == 0


async def test_poll_table(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    _, out, _ = await _run(
        "--config", str(demo_fleet.config_path), "poll", "--format", "table", data=tmp_path
    )
    assert out.splitlines()[0].startswith("HOST")
    assert "hostkey_changed" in out


async def test_config_error_exit_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts:\n  - name: a\n    address: b\n    pasword: x\n")
    code, _, err = await _run("--config", str(bad), "poll", "--once", data=tmp_path)
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


async def test_incidents_from_poll_and_the_shell(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    cfg = str(demo_fleet.config_path)
    _, out, _ = await _run("--config", cfg, "poll", "--once", data=tmp_path)
    incidents = json.loads(out)["incidents"]
    changed = demo_fleet.hosts[-2].spec.name
    (key_inc,) = [i for i in incidents if i["rule"] == "host-key-changed"]
    assert key_inc["host"] == changed and key_inc["state"] == "triggered"
    assert {
        "id",
        "key",
        "rule",
        "host",
        "severity",
        "state",
        "opened_at",
        "acknowledged_by",
        "resolved_at",
    } <= set(key_inc)

    iid = key_inc["id"]
    code, out, _ = await _run("--config", cfg, "incidents", "--as", "ana", "ack", iid, data=tmp_path)
    assert code == 0 and "acknowledged" in out
    code, _, _ = await _run(
        "--config", cfg, "incidents", "--as", "ana", "note", iid, "called the DC", data=tmp_path
    )
    assert code == 0
    code, out, _ = await _run(
        "--config",
        cfg,
        "incidents",
        "--as",
        "ben",
        "open",
        "--title",
        "VPN flaky",
        "--severity",
        "minor",
        data=tmp_path,
    )
    assert code == 0
    code, _, _ = await _run(
        "--config", cfg, "incidents", "--as", "ben", "severity", iid, "minor", data=tmp_path
    )
    assert code == 0
    code, _, _ = await _run("--config", cfg, "incidents", "--as", "ben", "resolve", iid, data=tmp_path)
    assert code == 0
    _, out, _ = await _run("--config", cfg, "incidents", "list", "--all", "--format", "json", data=tmp_path)
    listed = {i["id"]: i for i in json.loads(out)}
    assert listed[iid]["acknowledged_by"] == "ana" and listed[iid]["resolved_at"]
    assert listed[iid]["notes"] == ["called the DC"] and listed[iid]["severity"] == "minor"
    assert any(i["title"] == "VPN flaky" and i["state"] == "triggered" for i in listed.values())
    _, out, _ = await _run("--config", cfg, "incidents", "export", iid, "--format", "markdown", data=tmp_path)
    assert out.startswith(f"# {iid}") and "| acknowledged | ana |" in out and "| resolved | ben |" in out
    code, _, err = await _run("--config", cfg, "incidents", "ack", "INC-999999", data=tmp_path)
    assert code == 1 and "no incident INC-999999" in err


async def test_cli_write_is_handed_to_the_process_holding_the_lock(
    demo_fleet: DemoFleet, tmp_path: Path
) -> None:
    cfg = str(demo_fleet.config_path)
    _, out, _ = await _run("--config", cfg, "poll", "--once", data=tmp_path)
    iid = next(i["id"] for i in json.loads(out)["incidents"] if i["rule"] == "host-key-changed")
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        "--data-dir",
        str(tmp_path),
        "--config",
        cfg,
        "poll",
        "--count",
        "40",
        "--interval",
        "0.5",
        "--format",
        "jsonl",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert holder.stdout is not None
    await holder.stdout.readline()  # it holds the lock and is polling
    code, out, err = await _run("--config", cfg, "incidents", "--as", "cho", "ack", iid, data=tmp_path)
    assert code == 0, err
    assert "acknowledged" in out
    holder.kill()
    await holder.wait()
    _, out, _ = await _run("--config", cfg, "incidents", "list", "--format", "json", data=tmp_path)
    assert next(i for i in json.loads(out) if i["id"] == iid)["acknowledged_by"] == "cho"


async def test_windows_from_the_shell(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("hosts:\n  - {name: db-01, address: 127.0.0.9}\n")
    code, out, err = await _run(
        "--config",
        str(cfg),
        "windows",
        "--as",
        "ana",
        "open",
        "--host",
        "db-01",
        "--duration",
        "1h",
        "--reason",
        "kernel patch",
        "--change",
        "CHG-123",
        data=tmp_path,
    )
    assert code == 0, err
    key = out.split(":")[0]
    code, _, _ = await _run("windows", "--as", "ben", "extend", key, "30m", data=tmp_path)
    assert code == 0
    _, out, _ = await _run("windows", "list", "--format", "json", data=tmp_path)
    (w,) = json.loads(out)
    assert w["reason"] == "kernel patch" and w["change"] == "CHG-123" and w["scope"]["hosts"] == ["db-01"]
    code, _, _ = await _run("windows", "--as", "cho", "end", key, data=tmp_path)
    assert code == 0
    code, _, err = await _run("windows", "open", "--duration", "1h", data=tmp_path)
    assert code == 2 and err == "error: say what the window covers: --host, --group or --tag\n"
    code, _, err = await _run("--config", str(cfg), "windows", "open", "--host", "db-02", data=tmp_path)
    assert code == 1 and err.startswith("error: host:db-02 matches no host in the config")
