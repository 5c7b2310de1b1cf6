"""Install as users install: build the wheel, install it in a fresh venv, start it.

The wheel is built from a copy of the sources (so the build leaves nothing in the work tree)
and installed without its dependencies into a venv made without system site-packages; the
dependencies come from this test's own venv through a .pth file, which adds that directory to
the path without running its .pth files, so the editable install of the work tree stays out.
Every command runs outside the work tree with a clean environment: whatever the installed
console needs must come from the wheel.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.harness.pty_console import PtyConsole

ROOT = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "README.md", "tomconsole", "themes")
THEMES = sorted(yaml.safe_load(p.read_text())["name"] for p in (ROOT / "themes").glob("*.yaml"))
# A guard against a hung child, not a measurement: the console draws in about a second here.
DEADLINE_S = 60.0


@dataclass
class Installed:
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]

    @property
    def tomconsole(self) -> str:
        return str(self.venv / "bin" / "tomconsole")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tomconsole, *args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )


def _check(*cmd: str | Path, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    src, dist, venv, work = base / "src", base / "dist", base / "venv", base / "work"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    py = sys.executable
    _check(py, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src)
    (wheel,) = dist.glob("tomconsole-*.whl")

    _check(py, "-m", "venv", "--without-pip", venv)
    vpy = venv / "bin" / "python"
    site = Path(_check(vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_tomconsole_test_deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    _check(py, "-m", "pip", "--python", vpy, "install", "-q", "--no-deps", "--no-index", wheel)

    work.mkdir()
    home = base / "home"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    return Installed(wheel, venv, work, env)


def test_wheel_holds_every_module_the_styles_and_the_themes(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tomconsole").rglob("*")
        if p.suffix in (".py", ".tcss", ".typed") and "__pycache__" not in p.parts
    }
    wanted |= {f"tomconsole/themes/{p.name}" for p in (ROOT / "themes").glob("*.yaml")}
    assert wanted <= names, sorted(wanted - names)


def test_installed_package_is_the_wheel_not_the_work_tree(installed: Installed) -> None:
    out = subprocess.run(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import importlib.resources as r, tomconsole; "
            "print(tomconsole.__file__); print(r.files('tomconsole.themes'))",
        ],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed.venv) for p in out), out


def test_version(installed: Installed) -> None:
    proc = installed.run("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, "tomconsole 0.1.0"), proc.stderr


def test_check_config_on_the_example(installed: Installed) -> None:
    shutil.copy(ROOT / "config.example.yaml", installed.work / "config.example.yaml")
    proc = installed.run("check-config", "config.example.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _background_sgr(theme: str) -> bytes:
    path = next(p for p in (ROOT / "themes").glob("*.yaml") if yaml.safe_load(p.read_text())["name"] == theme)
    match = re.fullmatch(r"#(..)(..)(..)", yaml.safe_load(path.read_text())["background"])
    assert match is not None
    return ("48;2;" + ";".join(str(int(h, 16)) for h in match.groups())).encode()


@pytest.mark.parametrize("theme", THEMES)
def test_console_starts_with_each_theme_and_quits_on_q(installed: Installed, theme: str) -> None:
    background = _background_sgr(theme)
    markers = (b" tomconsole ", b" host", b"Quit", background)
    term = PtyConsole(
        [installed.tomconsole, "--theme", theme], cols=100, rows=30, cwd=installed.work, env=installed.env
    )
    try:
        term.read_until(lambda out: all(m in out for m in markers), DEADLINE_S)
        shown = term.output.decode(errors="replace")
        assert all(m in term.output for m in markers), f"not drawn ({theme}): {shown[-3000:]}"
        term.send(b"q")
        assert term.finish(DEADLINE_S) == 0  # drained until the child let go of the pty
        assert b"Traceback" not in term.output, term.output.decode(errors="replace")[-3000:]
        assert b"unknown theme" not in term.output
    finally:
        term.close()
