"""Debian packages for the test servers: installed when missing (root and apt-get needed),
`apt-get update` run once per process first. `Unavailable` says why a server cannot be had;
callers fail in CI and skip elsewhere (tests.conftest.service_unavailable)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


class Unavailable(Exception):
    pass


_updated = False


def ensure_packages(what: str, packages: Sequence[str], binaries: Sequence[str]) -> None:
    """Install `packages` unless every one of `binaries` exists already; `what` names the
    server in the reason when it cannot be had."""
    global _updated
    if all(Path(b).exists() for b in binaries):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable(f"{what} is not installed and cannot be installed (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, env=env, timeout=600)
        _updated = True
    res = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        capture_output=True,
        env=env,
        timeout=900,
        text=True,
        check=False,
    )
    if res.returncode != 0 or not all(Path(b).exists() for b in binaries):
        raise Unavailable(f"apt-get install {packages[0]} failed: {res.stderr[-500:]}")
