"""tomconsole: a keyboard-first terminal console for a fleet's technology operations."""

import _thread
import sys
import warnings
from types import TracebackType
from typing import Any

_prior_hook = sys.excepthook
_prior_unraisable = sys.unraisablehook


def _interrupted_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """A Ctrl-C that lands while modules are still importing is one line, like any other."""
    if issubclass(kind, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
    else:
        _prior_hook(kind, value, tb)


def _unraisable_hook(unraisable: Any) -> None:
    """A Ctrl-C that lands inside code called from C (a pydantic validator, a finaliser) cannot
    propagate there: instead of a printed traceback and a lost interrupt, it is delivered
    again, to be raised in the next ordinary frame (a no-op where Ctrl-C is ignored)."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        _thread.interrupt_main()
    else:
        _prior_unraisable(unraisable)


sys.excepthook = _interrupted_hook
sys.unraisablehook = _unraisable_hook

# cryptography 51 deprecates DSA, and asyncssh imports its DSA support whether or not a host
# uses it: the warning would be a stray stderr line on every command, which the operator can do
# nothing about (tomconsole never offers DSA keys).
warnings.filterwarnings("ignore", message="DSA is deprecated", module="asyncssh")
