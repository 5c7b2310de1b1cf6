"""The demo's databases when some servers are not installed: the pane's note names the
Debian packages to install, and the config lists only the databases that can start."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tomconsole.demo import databases as demo_databases
from tomconsole.demo.databases import DemoDatabases


def test_missing_servers_are_named_with_their_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_exists = os.path.exists
    monkeypatch.setattr(
        demo_databases.os.path,
        "exists",
        lambda p: p not in ("/usr/sbin/mariadbd", "/usr/bin/redis-server") and real_exists(p),
    )
    monkeypatch.setattr(demo_databases, "_has_postgres", lambda: True)
    demo = DemoDatabases(tmp_path)
    try:
        assert demo.missing == ["mariadb-server", "redis-server"]
        assert demo.missing_note == (
            "demo: mariadb-server, redis-server not installed (apt-get install mariadb-server redis-server)"
        )
        text = "\n".join(demo.config_lines())
        assert "engine: postgresql" in text and "engine: mariadb" not in text and "engine: redis" not in text
    finally:
        shutil.rmtree(demo.lab.root, ignore_errors=True)


def test_nothing_missing_is_no_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_databases.os.path, "exists", lambda p: True)
    monkeypatch.setattr(demo_databases, "_has_postgres", lambda: True)
    demo = DemoDatabases(tmp_path)
    try:
        assert demo.missing == [] and demo.missing_note is None
    finally:
        shutil.rmtree(demo.lab.root, ignore_errors=True)
