"""Pure code: what to ask a target and how to read its answer, and what each kind of target
provides as metric points. Nothing here does I/O or imports beyond models."""

from tomconsole.probes.host import HOST
from tomconsole.probes.kinds import Kind

BUILTIN_KINDS: dict[str, Kind] = {HOST.name: HOST}

__all__ = ["BUILTIN_KINDS", "HOST", "Kind"]
