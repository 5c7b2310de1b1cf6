"""Diagnostics and process tables, the pure parts: the config section and its defaults, the
exact remote command, how a run reads, the evidence in the export, the wire forms, and the
probe's process table read from a reply the real awk gave."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.config import ConfigError, parse_config
from tomconsole.incidents.actions import from_wire, to_wire
from tomconsole.incidents.export import to_markdown
from tomconsole.incidents.model import Incident
from tomconsole.models import AttachDiagnostic, HostInfo, RanDiagnostic
from tomconsole.probes.diagnostics import DEFAULTS, DiagnosticRun, command_of, remote_command
from tomconsole.probes.processes import ProcessTable, parse_top, top_request
from tomconsole.troubleshoot.diagnostics import Diagnostics

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_defaults_cover_the_usual_questions_and_a_users_entry_replaces_one() -> None:
    names = [d.name for d in DEFAULTS]
    assert names == ["journal-errors", "kernel-messages", "var-usage", "listening", "failed-units"]
    config = parse_config(
        "hosts:\n  - {name: db-01, address: 10.0.0.1, group: db, tags: [pg]}\n"
        "  - {name: web-01, address: 10.0.0.2, group: web}\n"
        "diagnostics:\n"
        "  - {name: var-usage, title: big dirs, command: 'du -xk -d 1 /var', timeout: 1m}\n"
        "  - {name: pg-locks, title: locks, command: 'psql -c \"select 1\"', hosts: 'group:db', sudo: true}\n"
    )
    effective = config.effective_diagnostics
    assert [d.name for d in effective] == [*names, "pg-locks"]
    replaced = next(d for d in effective if d.name == "var-usage")
    assert (replaced.title, replaced.command, replaced.timeout) == ("big dirs", "du -xk -d 1 /var", 60.0)
    infos = {i.name: i for i in config.host_infos()}
    diags = Diagnostics(config, {}, infos)
    assert "pg-locks" in [d.name for d in diags.for_host("db-01")]
    assert "pg-locks" not in [d.name for d in diags.for_host("web-01")]
    assert diags.for_host("nowhere") == []
    assert not config.allow_free_commands
    off = parse_config("default_diagnostics: false\ndiagnostics:\n  - {name: a, title: a, command: uptime}\n")
    assert [d.name for d in off.effective_diagnostics] == ["a"]


def test_bad_diagnostics_are_errors_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(
            "diagnostics:\n"
            "  - {name: a, title: a, command: uptime}\n"
            "  - {name: 'Bad Name', title: c, command: w, colour: red}\n"
            "  - {name: d, title: d, command: w, hosts: 'rack:4'}\n",
            "t.yaml",
        )
    assert str(err.value).split("\n") == [
        "t.yaml:3: diagnostics[1].name: a diagnostic's name is lowercase letters, digits, -, _ and . "
        "(like journal-errors)",
        "t.yaml:3: diagnostics[1].colour: unknown key",
        "t.yaml:4: diagnostics[2].hosts: rack:4: a scope names host:NAME, group:NAME or tag:NAME",
    ]
    with pytest.raises(ConfigError) as twice:
        parse_config(
            "diagnostics:\n  - {name: a, title: a, command: w}\n  - {name: a, title: b, command: w}\n",
            "t.yaml",
        )
    assert str(twice.value) == "t.yaml:3: diagnostics[1].name: name is used twice"


def test_the_remote_command_quotes_the_command_and_uses_sudo_n() -> None:
    cmd = "journalctl -p err -n 5; echo 'it''s' $HOME"
    plain = remote_command(cmd, 12.7, False)
    assert f"timeout -k 2 12 sh -c {shlex.quote(cmd)}" in plain and "sudo" not in plain
    assert command_of(plain) == cmd
    root = remote_command(cmd, 5, True)
    assert f"exec sudo -n -- timeout -k 2 5 sh -c {shlex.quote(cmd)}" in root
    assert f"else exec sudo -n -- sh -c {shlex.quote(cmd)}" in root
    assert command_of(root) == cmd
    assert command_of("sh -c 'unterminated") is None


def _run(**over: object) -> DiagnosticRun:
    kw: dict[str, object] = {
        "diagnostic": "journal-errors",
        "title": "errors in the journal",
        "host": "db-01",
        "at": NOW,
        "status": 0,
        "output": "x\n",
        "bytes": 2,
        "truncated": False,
        "timed_out": False,
        "took_s": 0.4,
    }
    kw.update(over)
    return DiagnosticRun(**kw)  # type: ignore[arg-type]


def test_a_run_says_how_it_ended() -> None:
    assert _run().outcome == "exit 0"
    assert _run(status=None, timed_out=True, took_s=30.2).outcome == "ended at its deadline after 30 s"
    asked = _run(status=1, output="sudo: a password is required\n", sudo=True)
    assert asked.needs_password and "NOPASSWD" in asked.outcome
    assert not _run(status=1, output="sudo: a password is required\n").needs_password  # not run with sudo
    cut = _run(truncated=True, bytes=300_000, status=None)
    assert cut.outcome == "cut at its output cap (2 bytes kept): the rest was not read, the command ended"
    assert cut.headline().endswith("300,000 bytes or more, truncated")


def test_evidence_in_the_export_stays_literal_whatever_its_backticks() -> None:
    inc = Incident("INC-000001", "k", "disk", "major", "db-01", "disk", opened_at=NOW.isoformat())
    output = "```\n# not a heading\n[b]x[/b] | pipe\n````\n"
    inc.notes.append(
        {
            "at": NOW.isoformat(),
            "who": "ana",
            "text": "diagnostic var-usage (big dirs) on db-01: exit 0",
            "output": output,
            "truncated": "yes",
        }
    )
    md = to_markdown(inc)
    block = md.split("## Diagnostics attached", 1)[1]
    assert "\n`````\n" + output.rstrip("\n") + "\n`````\n" in block
    assert "(truncated: the output above is the start of what the host sent)" in block


def test_wire_forms_round_trip() -> None:
    ran = RanDiagnostic("db-01", "free", "ana", None, 12, True, True, "uptime")
    attach = AttachDiagnostic(
        "INC-000003", "ana", "db-01", "var-usage", "big dirs", NOW.isoformat(), 0, "a\n"
    )
    for action in (ran, attach):
        assert from_wire(to_wire(action)) == action
    with pytest.raises(ValueError, match="host is missing"):
        from_wire({"action": "diagnostic-ran", "diagnostic": "x", "who": "ana"})


def test_process_table_from_a_recorded_reply() -> None:
    text = (DATA / "top-debian12-mawk.txt").read_text(encoding="utf-8")
    table = parse_top(text, NOW)
    assert isinstance(table, ProcessTable)
    assert table.by == "c" and table.count > 25 and len(table.rows) == 25
    cpu = [r.cpu_pct for r in table.rows]
    assert cpu == sorted(cpu, reverse=True)
    kernel = [r for r in table.rows if r.command.startswith("[")]  # no command line: [comm]
    assert kernel and all(r.rss_bytes == 0 and r.user == "root" for r in kernel)


def test_process_rows_are_read_exactly_and_bad_rows_skipped() -> None:
    reply = (
        "@ 7\nQ r 3 1000.00\n"
        "T 42 S 12.5 2048 3 50000 ana python3\x01-c\x01x = 1\x02y\x01\n"
        "T zz S 1 1 1 1 bob broken\n"
        "T 7 R 0.0 0 1 99000 root [kworker/0:1]\n$ 7\n"
    )
    table = parse_top(reply, NOW)
    assert not isinstance(table, str)
    assert [r.pid for r in table.rows] == [42, 7]
    row = table.rows[0]
    assert (row.user, row.state, row.cpu_pct, row.rss_bytes, row.threads) == (
        "ana",
        "S",
        12.5,
        2048 * 1024,
        3,
    )
    assert row.command == "python3 -c x = 1\ny"
    assert row.started_at == NOW - timedelta(seconds=1000 - 500)
    assert (
        parse_top("@ 1\n$ 1\n", NOW) == "no process table in the reply (an older probe, or not a Linux host)"
    )
    with pytest.raises(ValueError):
        top_request(1, "x")


def test_scope_words_name_hosts_groups_and_tags() -> None:
    config = parse_config(
        "diagnostics:\n  - {name: a, title: a, command: w, hosts: 'db-01 group:db tag:pg'}\n"
    )
    scope = config.diagnostics[0].hosts
    assert scope.names(HostInfo("db-01", "x", (), None, 5))
    assert scope.names(HostInfo("other", "x", ("pg",), None, 5))
    assert not scope.names(HostInfo("other", "x", ("web",), "web", 5))
