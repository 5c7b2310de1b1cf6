"""`tomconsole check-config`: validate a config without connecting anywhere."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, safe, say
from tomconsole.config import Config, find_config, load_config


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    check = command("check-config", "validate a config without connecting anywhere (exit 2 on errors)")
    check.add_argument("file", type=Path, nargs="?", help="the config file (default: as --config)")


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
