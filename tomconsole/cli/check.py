"""`tomconsole check-config` validates a config without connecting anywhere; `check-theme`
computes whether every text colour of a theme is readable on every row (ui/contrast.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tomconsole.cli.output import EXIT_DOWN, EXIT_OK, EXIT_USAGE, error, safe, say
from tomconsole.config import Config, find_config, load_config


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    check = command("check-config", "validate a config without connecting anywhere (exit 2 on errors)")
    check.add_argument("file", type=Path, nargs="?", help="the config file (default: as --config)")
    theme = command(
        "check-theme",
        "is every text colour readable on every row state (WCAG AA, 4.5:1)? exit 1 when not, 2 on errors",
    )
    theme.add_argument("themes", nargs="*", help="theme files or names (default: every theme found)")


def run(args: argparse.Namespace, theme_problem: Callable[[str], str | None]) -> int:
    target = args.file or args.config or find_config()
    if target is None:
        return error("no config file given and none found (./tomconsole.yaml, XDG)", EXIT_USAGE)
    config = load_config(target, theme_problem)
    for warning in _key_file_warnings(config):
        print(f"warning: {safe(target)}: {safe(warning)}", file=sys.stderr)
    n = len(config.hosts)
    sources = [f"{n} host{'' if n == 1 else 's'}"]
    for count, what in ((len(config.network.checks), "check"), (len(config.databases), "database")):
        if count:
            sources.append(f"{count} {what}{'' if count == 1 else 's'}")
    if config.prometheus is not None:
        sources.append(f"prometheus at {safe(config.prometheus.url)}")
    say(f"{target}: ok ({', '.join(sources)})")
    return EXIT_OK


def _key_file_warnings(config: Config) -> list[str]:
    """Key files that exist in the config but cannot be used as they are (checked, not connected)."""
    from tomconsole.collectors.ssh_keys import identity_file_problem

    out = []
    for where, path in [("ssh.identity_file", config.ssh.identity_file)] + [
        (f"hosts[{i}].identity_file", h.identity_file) for i, h in enumerate(config.hosts)
    ]:
        problem = identity_file_problem(path) if path else None
        if problem:
            out.append(f"{where}: {problem}; unless ssh-agent holds this key, the host shows auth_failed")
    return out


def run_theme(args: argparse.Namespace) -> int:
    """Each theme's unreadable (text, background) pairs, worst first; exit 1 if any."""
    from tomconsole.ui.contrast import AA, pairs
    from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file

    try:
        known = load_themes()
        wanted = args.themes or sorted(known)
        themes = [
            theme_from_file(Path(w).expanduser()) if w.endswith((".yaml", ".yml")) else known[w]
            for w in wanted
        ]
    except ThemeError as exc:
        return error(exc, EXIT_USAGE)
    except KeyError as exc:
        return error(
            f"unknown theme {exc.args[0]} (known: {', '.join(sorted(known))}, or a .yaml file)", EXIT_USAGE
        )
    failed = False
    for theme in themes:
        checked = pairs(theme)
        bad = [p for p in checked if p.ratio < AA]
        if bad:
            failed = True
            say(f"{theme.name}: {len(bad)} of {len(checked)} text/background pairs below {AA}:1")
            for pair in bad:
                say(f"  {pair}")
        else:
            low = checked[0]
            say(
                f"{theme.name}: ok, all {len(checked)} pairs reach {AA}:1 "
                f"(lowest {low.ratio:.2f}:1, {low.text} on {low.background})"
            )
    return EXIT_DOWN if failed else EXIT_OK
