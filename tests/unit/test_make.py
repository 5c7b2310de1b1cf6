"""`make test` is what CI runs (.ci/run), so it must run the linters too, not only pytest."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_make_test() -> None:
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in lines


def test_make_test_runs_linters_then_pytest() -> None:
    # -n prints the commands without running them (nor the venv bootstrap).
    out = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    commands = [ln for ln in out.splitlines() if ln.startswith(".venv/bin/")]
    wanted = [
        ".venv/bin/ruff check tomconsole tests bench",
        ".venv/bin/ruff format --check tomconsole tests bench",
        ".venv/bin/mypy",
        ".venv/bin/lint-imports",
    ]
    for cmd in wanted:
        assert cmd in commands, out
    pytest_at = next(i for i, c in enumerate(commands) if " -m pytest" in c)
    assert all(commands.index(cmd) < pytest_at for cmd in wanted), out
