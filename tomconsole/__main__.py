"""The `tomconsole` command. Tiny on purpose: a Ctrl-C while the rest is still importing is a
one-line message and exit 130 like any other, never a traceback.

Ctrl-C is held back (blocked, not ignored) while the CLI imports: building the config models
runs Python code called from pydantic-core, where a KeyboardInterrupt cannot propagate and
would be printed as an "Exception ignored" traceback and then lost. Unblocked, a Ctrl-C that
came meanwhile is delivered at once, in an ordinary frame, before anything was done.
"""

import signal
import sys


def run() -> None:
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            from tomconsole.cli import main
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        code = main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
