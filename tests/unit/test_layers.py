"""The import contracts catch what they promise to, including in modules that do not exist yet.

Each case copies the package and pyproject.toml to a temporary directory, adds one module with
one forbidden import, and runs lint-imports there: the named contract must break. The real
tree must keep every contract.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Layers: cli over ui/demo"
UI_ONLY = "Textual and Rich only under tomconsole.ui"
STORE_ONLY = "tinydb only in tomconsole.store"
CLIENTS = "Network, host and database clients only in tomconsole.collectors and tomconsole.demo"
NOT_YET = "Clients not used yet"


def lint_imports(tmp_path: Path, extra: dict[str, str]) -> tuple[int, str]:
    skip_caches = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "tomconsole", tmp_path / "tomconsole", ignore=skip_caches)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, text in extra.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # The copy comes first on the path, ahead of the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200"}
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


def test_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    rc, out = lint_imports(tmp_path, {})
    assert rc == 0, out
    assert "0 broken" in out
    for name in (LAYERS, UI_ONLY, STORE_ONLY, CLIENTS, NOT_YET):
        assert verdict(out, name) == "KEPT"


@pytest.mark.parametrize(
    ("extra", "broken"),
    [
        # A new top-level module that no layer names: the layers contract is exhaustive.
        ({"tomconsole/extra.py": ""}, LAYERS),
        # New packages, not listed in any contract, importing what they must not.
        ({"tomconsole/wall/__init__.py": "import rich\n"}, UI_ONLY),
        ({"tomconsole/wall/__init__.py": "from textual.app import App\n"}, UI_ONLY),
        ({"tomconsole/archive/__init__.py": "import tinydb\n"}, STORE_ONLY),
        ({"tomconsole/fleetinfo/__init__.py": "import psutil\n"}, CLIENTS),
        # Existing layers that are allowed other things.
        ({"tomconsole/ui/sysinfo.py": "import psutil\n"}, CLIENTS),
        ({"tomconsole/monitor/ssh.py": "import asyncssh\n"}, CLIENTS),
        ({"tomconsole/collectors/ui.py": "from rich.text import Text\n"}, UI_ONLY),
        ({"tomconsole/incidents/db.py": "from tinydb import TinyDB\n"}, STORE_ONLY),
        # A client nothing uses yet, even in a collector.
        ({"tomconsole/incidents/mongo.py": "import pymongo\n"}, NOT_YET),
        # The database drivers the collectors use stay in the collectors.
        ({"tomconsole/incidents/pg.py": "import asyncpg\n"}, CLIENTS),
        ({"tomconsole/monitor/cache.py": "import redis\n"}, CLIENTS),
        ({"tomconsole/collectors/web.py": "import aiohttp\n"}, NOT_YET),
        # The HTTP client the collectors use (Prometheus, Alertmanager) stays in the collectors.
        ({"tomconsole/monitor/web.py": "import httpx\n"}, CLIENTS),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else v.split()[0],
)
def test_forbidden_import_breaks_its_contract(tmp_path: Path, extra: dict[str, str], broken: str) -> None:
    rc, out = lint_imports(tmp_path, extra)
    assert rc != 0, out
    assert verdict(out, broken) == "BROKEN", out


def verdict(out: str, contract: str) -> str:
    """KEPT or BROKEN, as the summary line of that contract says."""
    match = re.search(re.escape(contract) + r".*?\b(KEPT|BROKEN)\b", out)
    assert match is not None, out
    return match.group(1)
