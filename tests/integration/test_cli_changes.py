"""`tomconsole changes` as a script uses it: a change from draft to completion with its
window, the rules refusing with a reason and exit 1, JSON that keeps the text exact, and
markup in a title printed literally."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import _run

CONFIG = """local: false
hosts:
  - {name: db-01, address: 127.0.0.1, group: db}
changes:
  freeze:
    - {name: xmas, start: '2030-12-24T00:00', end: '2030-12-27T00:00'}
"""


async def test_a_change_through_its_life_from_the_shell(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()

    async def run(*args: str, who: str = "ana") -> tuple[int, str, str]:
        return await _run("--config", str(cfg), "--as", who, "changes", *args, data=data)

    code, out, err = await run(
        "new", "--title", "Upgrade [b]PG[/b] \x1b[31m", "--risk", "high", "--scope", "host:db-01 db:orders",
        "--start", "2030-06-01T22:00", "--duration", "1h",
    )  # fmt: skip
    assert code == 0, err
    assert out == "CHG-1: draft: Upgrade [b]PG[/b] \\x1b[31m\n"
    code, _, err = await run("submit", "CHG-1")
    assert (code, err) == (1, "error: a high-risk change needs a rollback plan before it is submitted\n")
    code, _, err = await run(
        "new",
        "--title",
        "t",
        "--risk",
        "low",
        "--scope",
        "group:db",
        "--start",
        "2030-12-25T10:00",
        "--duration",
        "1h",
    )
    assert code == 0, err
    code, _, err = await run("submit", "CHG-2")
    assert (code, err) == (1, "error: its time falls in the freeze xmas: refused unless marked emergency\n")
    code, _, err = await run(
        "new", "--title", "Rotate certs", "--risk", "medium", "--scope", "host:db-01",
        "--start", "2030-06-02T22:00", "--end", "2030-06-02T23:00", "--rollback", "old certs kept",
    )  # fmt: skip
    assert code == 0, err
    assert (await run("submit", "CHG-3"))[0] == 0
    code, _, err = await run("approve", "CHG-3")
    assert (code, err) == (1, "error: no one approves their own change: ask someone else\n")
    code, out, err = await run("approve", "CHG-3", who="ben")
    assert code == 0 and out.startswith("CHG-3: approved: Rotate certs (window MW-"), err
    for step in ("start", "complete"):
        code, _, err = await run(step, "CHG-3", "--note", f"{step} ok")
        assert code == 0, err
    code, out, err = await run("show", "CHG-3", "--format", "json")
    doc = json.loads(out)
    assert doc["state"] == "completed" and doc["window"] and doc["incidents"] == [] and not doc["review"]
    assert [h["step"] for h in doc["history"]] == ["new", "submit", "approve", "start", "complete"]
    code, out, _ = await run("list", "--format", "json")
    assert [d["id"] for d in json.loads(out)] == ["CHG-1", "CHG-2"]  # open ones
    code, out, _ = await run("list", "--all", "--format", "json")
    titles = {d["id"]: d["title"] for d in json.loads(out)}
    assert titles["CHG-1"] == "Upgrade [b]PG[/b] \x1b[31m"  # exact in JSON
    code, out, _ = await run("show", "CHG-1")
    assert "\x1b" not in out and "Upgrade [b]PG[/b] \\x1b[31m" in out
    code, _, err = await run("approve", "CHG-9", who="ben")
    assert (code, err) == (1, "error: no change CHG-9\n")


async def test_oncall_now_next_and_an_override_from_the_shell(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        CONFIG + "oncall:\n  rotations:\n    - {team: ops, members: [ana, ben], handover_day: mon,"
        " handover_time: '09:00', timezone: Europe/Berlin, start: 2026-01-05}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    data.mkdir()

    async def run(*args: str) -> tuple[int, str, str]:
        return await _run("--config", str(cfg), "--as", "ben", "oncall", *args, data=data)

    code, out, err = await run("now", "--format", "json")
    assert code == 0, err
    (now,) = json.loads(out)
    assert now["who"] in ("ana", "ben") and now["override"] is None
    code, out, err = await run(
        "override",
        "--team",
        "ops",
        "--who",
        "[b]dee[/b]",
        "--from",
        now["from"],
        "--for",
        "12h",
        "--reason",
        "swap",
    )
    assert code == 0 and out.startswith("ops: [b]dee[/b] on call from "), err
    code, out, _ = await run("now")
    assert "[b]dee[/b] until" in out and "(override: swap)" in out
    code, _, err = await run("now", "--team", "db")
    assert (code, err) == (1, "error: no rotation for team db\n")
    code, _, err = await run(
        "override", "--team", "ops", "--who", "x", "--from", "soon", "--for", "1h", "--reason", "r"
    )
    assert code == 2 and "soon is not a time" in err
