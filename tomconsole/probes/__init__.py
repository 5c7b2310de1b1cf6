"""Pure code: what to ask a target and how to read its answer, and what each kind of target
provides as metric points. Nothing here does I/O or imports beyond models."""

from tomconsole.models import HostState
from tomconsole.probes.databases import DB
from tomconsole.probes.host import HOST
from tomconsole.probes.kinds import Kind
from tomconsole.probes.network import CHECK
from tomconsole.probes.security import FINDINGS, SCAN

# A source that speaks for many targets (Prometheus), as a target of its own: no metrics, the
# states its rounds can end in. Rules name it `source:prometheus` (the default `source-down`).
SOURCE = Kind(
    name="source",
    metrics=(),
    states=(HostState.UP, HostState.UNREACHABLE, HostState.TIMEOUT, HostState.ERROR),
    values=lambda _sample: (),
)

BUILTIN_KINDS: dict[str, Kind] = {k.name: k for k in (HOST, SOURCE, CHECK, DB, SCAN, FINDINGS)}

__all__ = ["BUILTIN_KINDS", "CHECK", "DB", "FINDINGS", "HOST", "SCAN", "SOURCE", "Kind"]
