"""Everything the CLI prints for a person goes through here, never raw.

Stored and remote text (titles, notes, host names, ids an operator typed, error details)
can hold ESC, BEL and bidi overrides; printed raw, a title could retitle the terminal or
hide a line. `say` shows every such character as a visible mark (newlines and tabs of
multi-line output such as a Markdown export are kept). JSON output does not come here: it
keeps the exact text, JSON-escaped. Errors are one line on stderr: `error: ...`.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from tomconsole.models import visible

# Exit codes, as the README documents them.
EXIT_OK = 0
EXIT_DOWN = 1  # poll: a host is not up; incidents/windows: the action was refused
EXIT_USAGE = 2  # a config error or a command line that does not parse
EXIT_STORE = 3  # the store cannot be opened or written
EXIT_QUEUED = 4  # handed to the console holding the store, which has not confirmed it yet
EXIT_INTERRUPTED = 130


def safe(text: object) -> str:
    """One line of untrusted text made terminal-safe."""
    return visible(str(text))


def say(text: object) -> None:
    """Print to stdout, terminal-safe; line breaks and tabs of multi-line output are kept."""
    print(visible(str(text), keep="\n\t"), flush=True)


def error(message: object, code: int = EXIT_DOWN) -> int:
    """`error: ...` on stderr as one safe line; returns `code` for the caller to exit with."""
    print(f"error: {safe(message)}", file=sys.stderr, flush=True)
    return code


def note(message: object) -> None:
    """`note: ...` on stderr as one safe line: something the user should know, not a failure."""
    print(f"note: {safe(message)}", file=sys.stderr, flush=True)


class _OneLine(logging.Formatter):
    """A log record as one terminal-safe line: `warning: message: KeyError: detail`."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f": {type(exc).__name__}: {exc}"
        return f"{record.levelname.lower()}: {visible(text)}"


# A log handler that cannot write (the disk is full: that is why we are logging) stays quiet
# rather than printing "--- Logging error ---" with a traceback over the terminal.
logging.raiseExceptions = False


def log_to_stderr() -> None:
    """Headless commands: what the engine logs (a collector's bug, a backup not written) is one
    safe line on stderr, never a traceback."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def log_to_file(data_dir: Path) -> None:
    """The console owns the terminal: log, with tracebacks, to tomconsole.log in the data dir."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            data_dir / "tomconsole.log", maxBytes=1 << 20, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # a data dir that cannot be written says so on screen
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
