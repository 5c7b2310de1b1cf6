"""Options work where the README shows them, every option explains itself, errors are one line
without Python reprs, and nothing stored or remote reaches the terminal as raw control bytes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.integration.test_cli import _run
from tomconsole.cli import build_parser
from tomconsole.demo.fleet import DemoFleet

HOSTILE = "\x1b]0;pwned\x07title\x1b[2J\u202eevil"


def _walk(parser: argparse.ArgumentParser, path: str = "tomconsole") -> list[tuple[str, argparse.Action]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _walk(sub, f"{path} {name}")
        else:
            out.append((path, action))
    return out


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        f"{where}: {a.dest}"
        for where, a in _walk(build_parser())
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--data-dir", "{d}", "--as", "ana", "incidents", "open", "--title", "t"],
        ["incidents", "--data-dir", "{d}", "--as", "ana", "open", "--title", "t"],
        ["incidents", "open", "--title", "t", "--data-dir", "{d}", "--as", "ana"],
    ],
    ids=["before", "between", "after"],
)
async def test_global_options_before_between_or_after(tmp_path: Path, argv: list[str]) -> None:
    args = [a.replace("{d}", str(tmp_path)) for a in argv]
    code, out, err = await _run(*args)
    assert (code, out, err) == (0, "INC-000001: opened (triggered, major): t\n", "")
    _, out, _ = await _run("incidents", "list", "--format", "json", "--data-dir", str(tmp_path))
    assert json.loads(out)[0]["notes"] == [] and json.loads(out)[0]["state"] == "triggered"
    _, out, _ = await _run("incidents", "show", "INC-000001", "--format", "json", "--data-dir", str(tmp_path))
    assert json.loads(out)["timeline"][0]["who"] == "ana"


async def test_readme_poll_line_with_config_after_the_subcommand(
    demo_fleet: DemoFleet, tmp_path: Path
) -> None:
    code, out, err = await _run(
        "poll",
        "--once",
        "--format",
        "json",
        "--config",
        str(demo_fleet.config_path),
        "--data-dir",
        str(tmp_path),
    )
    assert code == 1 and len(json.loads(out)["hosts"]) == 9, err  # 8 demo hosts and the console's own


async def test_poll_once_twice_keeps_the_same_open_incidents(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    cfg = str(demo_fleet.config_path)
    for host in demo_fleet.hosts:  # the filling disk follows the wall clock: hold it below every threshold
        if host.spec.fills_disk:
            host.spec.disk_hold = 0.5
    sets = []
    for _ in range(3):
        _, out, _ = await _run("--config", cfg, "poll", "--once", data=tmp_path)
        sets.append({(i["id"], i["key"]) for i in json.loads(out)["incidents"]})
    assert sets[0] and sets[0] == sets[1] == sets[2]
    assert all(key != iid for iid, key in sets[0])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["poll", "--interval", "0.1"],
            "error: tomconsole poll: argument --interval: must be between 0.5 and 3600 seconds, not 0.1",
        ),
        (
            ["--read-only", "incidents", "ack", "INC-000001"],
            "error: --read-only is for the console (and the wall, which always is), not `incidents`",
        ),
        (
            ["wall", "--rotate", "1s"],
            "error: tomconsole wall: argument --rotate: between 5s and 1h, not 1s",
        ),
        (
            ["wall", "--panes", "servers,pagers"],
            "error: tomconsole wall: argument --panes: unknown pane pagers (known: servers, incidents,",
        ),
        (
            ["poll", "--count", "0"],
            "error: tomconsole poll: argument --count: must be between 1 and 1e+06, not 0",
        ),
        (
            ["--theme", "nope", "poll"],
            "error: --theme: unknown theme nope (known: tomconsole-dark, tomconsole-light, tomconsole-wall",
        ),
        (["poll", "--bogus"], "error: tomconsole: unrecognized arguments: --bogus"),
        (
            ["demo", "--hosts", "999"],
            "error: tomconsole demo: argument --hosts: must be between 1 and 254, not 999",
        ),
    ],
)
async def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    code, out, err = await _run(*argv, data=tmp_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(message), err


async def test_theme_in_the_config_is_checked_with_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("local: true\ntheme: tomconsole-neon\n")
    code, _, err = await _run("check-config", str(cfg))
    assert code == 2 and err.startswith(f"error: {cfg}:2: theme: unknown theme tomconsole-neon (known: ")
    cfg.write_text("local: true\ntheme: tomconsole-wall\n")
    code, out, _ = await _run("check-config", str(cfg))
    assert code == 0 and out == f"{cfg}: ok (0 hosts)\n"


async def test_version(tmp_path: Path) -> None:
    code, out, _ = await _run("--version")
    assert code == 0 and out.startswith("tomconsole ")


async def test_stored_text_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    code, out, err = await _run(
        "incidents", "open", "--title", HOSTILE, "--host", "web\x07-01", data=tmp_path
    )
    assert code == 0 and "\\x1b]0;pwned\\x07title" in out
    await _run("incidents", "note", "INC-000001", f"saw {HOSTILE}", data=tmp_path)
    texts = []
    for argv in (
        ["incidents", "list"],
        ["incidents", "list", "--all"],
        ["incidents", "show", "INC-000001"],
        ["incidents", "export", "INC-000001"],
        ["incidents", "ack", "\x1b[31mINC"],
        ["incidents", "note", "INC-000001", "   "],
    ):
        code, out, err = await _run(*argv, data=tmp_path)
        texts.append(out + err)
        assert "\x1b" not in out + err and "\x07" not in out + err and "\u202e" not in out + err, argv
    assert "error: no incident \\x1b[31mINC\n" in texts[4]  # no quotes, no repr, escapes visible
    assert texts[5] == "error: a note cannot be empty\n"
    assert "\\u202eevil" in texts[2] and "\n## Timeline\n" in texts[3]  # multi-line output keeps its lines
    _, out, _ = await _run("incidents", "show", "INC-000001", "--format", "json", data=tmp_path)
    assert json.loads(out)["title"] == HOSTILE  # JSON keeps the exact text


async def test_check_config_warns_about_key_files_it_cannot_use(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    missing = tmp_path / "nope_ed25519"
    cfg.write_text(f"hosts:\n  - {{name: a, address: 127.0.0.9, identity_file: {missing}}}\n")
    code, out, err = await _run("check-config", str(cfg))
    assert code == 0 and out == f"{cfg}: ok (1 host)\n"
    assert err.startswith(f"warning: {cfg}: hosts[0].identity_file: ") and str(missing) in err
    assert err.count("\n") == 1


async def test_check_config_counts_checks_and_databases(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "local: false\n"
        "network:\n  checks:\n    - {name: api, kind: tcp, target: '127.0.0.1:9'}\n"
        "databases:\n  - {name: orders, engine: postgresql, port: 5432}\n"
        "  - {name: cache, engine: redis}\n"
    )
    code, out, _ = await _run("check-config", str(cfg))
    assert code == 0 and out == f"{cfg}: ok (0 hosts, 1 check, 2 databases)\n"
