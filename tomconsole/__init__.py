"""tomconsole: a keyboard-first terminal console for a fleet's technology operations."""

import sys
from types import TracebackType

_prior_hook = sys.excepthook


def _interrupted_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """A Ctrl-C that lands while modules are still importing is one line, like any other."""
    if issubclass(kind, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
    else:
        _prior_hook(kind, value, tb)


sys.excepthook = _interrupted_hook
