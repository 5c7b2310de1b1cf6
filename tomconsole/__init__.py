"""tomconsole: a keyboard-first terminal console for a fleet's technology operations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tomconsole")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
