"""The `tomconsole` command. Tiny on purpose: a Ctrl-C while the rest is still importing is a
one-line message and exit 130 like any other, never a traceback."""

import sys


def run() -> None:
    try:
        from tomconsole.cli import main

        code = main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
