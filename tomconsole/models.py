"""The vocabulary every layer shares: frozen value types and enums, no I/O.

Probes produce these, collectors wrap them in observations, the monitor keeps them,
the UI and the JSON report read them. Nothing here imports a third-party package,
so the whole engine can be reasoned about (and tested) as plain data.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# -- untrusted text ---------------------------------------------------------------------
# Text from hosts, databases, scanners, files and the store may hold anything. One rule says
# which characters must never reach a terminal as themselves (controls, escapes, bidi
# overrides, invisible and line/paragraph separators); the UI's sanitizer (ui/text.py) and
# the CLI's printer (cli/output.py) both show them as visible \xNN / \uNNNN marks.

_BIDI_AND_INVISIBLE = frozenset(
    {0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF}
    | set(range(0x202A, 0x202F))
    | set(range(0x2066, 0x206A))
)


def needs_escape(ch: str) -> bool:
    """True for a character that must be shown as a mark, never sent to a terminal."""
    if ord(ch) in _BIDI_AND_INVISIBLE:
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every character `needs_escape` flags (except those in `keep`) made visible."""
    return "".join(escape_char(c) if needs_escape(c) and c not in keep else c for c in text)


class HostState(StrEnum):
    """What we know about a host's reachability; everything but UP carries a reason."""

    UP = "up"
    CONNECTING = "connecting"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    HOSTKEY_UNKNOWN = "hostkey_unknown"
    HOSTKEY_CHANGED = "hostkey_changed"
    TIMEOUT = "timeout"
    STALE = "stale"
    ERROR = "error"  # tomconsole itself failed on this host (a bug): shown, logged, polling goes on
    FAILED = "failed"  # a check got an answer, but not the one it expects (status, body, DNS answer)

    @property
    def is_down(self) -> bool:
        return self not in (HostState.UP, HostState.CONNECTING, HostState.STALE, HostState.ERROR)


class Level(StrEnum):
    """How a value compares to its thresholds."""

    OK = "ok"
    WARN = "warn"
    CRIT = "crit"


@dataclass(frozen=True, slots=True)
class Filesystem:
    mount: str
    device: str
    size_bytes: int
    used_bytes: int
    avail_bytes: int

    @property
    def used_pct(self) -> float:
        """Use as df reports it: used / (used + available), so root's reserve counts as full."""
        denom = self.used_bytes + self.avail_bytes
        return 100.0 * self.used_bytes / denom if denom > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    rx_bytes: int
    tx_bytes: int
    rx_errors: int = 0
    tx_errors: int = 0
    rx_drops: int = 0
    tx_drops: int = 0
    speed_mbps: int | None = None  # the link's speed (/sys/class/net/NAME/speed); None: unknown
    operstate: str | None = None  # up, down, unknown, dormant, ... as the kernel says
    physical: bool | None = None  # backed by a device (a NIC), not lo, veth, a bridge or a tunnel


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Aggregate CPU counters (jiffies or seconds) from which a utilisation is derived."""

    busy: float
    total: float


@dataclass(frozen=True, slots=True)
class HostSample:
    """One host's basics at one moment. Counters are raw; rates need two samples."""

    sampled_at: datetime
    uptime_s: float | None = None
    load: tuple[float, float, float] | None = None
    ncpu: int | None = None
    cpu_times: CpuTimes | None = None
    cpu_pct: float | None = None
    mem_total_bytes: int | None = None
    mem_available_bytes: int | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None
    filesystems: tuple[Filesystem, ...] | None = None
    interfaces: tuple[Interface, ...] = ()
    processes: int | None = None
    os: str | None = None
    kernel: str | None = None

    @property
    def mem_used_pct(self) -> float | None:
        if not self.mem_total_bytes or self.mem_available_bytes is None:
            return None
        used = self.mem_total_bytes - self.mem_available_bytes
        return 100.0 * used / self.mem_total_bytes

    @property
    def swap_used_pct(self) -> float | None:
        if self.swap_total_bytes is None or self.swap_free_bytes is None:
            return None
        if self.swap_total_bytes == 0:
            return 0.0
        used = self.swap_total_bytes - self.swap_free_bytes
        return 100.0 * used / self.swap_total_bytes

    @property
    def worst_filesystem(self) -> Filesystem | None:
        if not self.filesystems:
            return None
        return max(self.filesystems, key=lambda fs: fs.used_pct)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One run of a network check from one vantage point: `sent` probes, of which the
    answered ones took `latencies_ms` (a TCP connect, an HTTP exchange, a DNS query or an
    ICMP echo). The rest are facts the kind of check gives."""

    sampled_at: datetime
    sent: int
    latencies_ms: tuple[float, ...]
    http_status: int | None = None
    cert_days: float | None = None
    cert_issuer: str | None = None
    cert_subject: str | None = None
    answer: tuple[str, ...] | None = None  # a DNS answer, sorted
    answer_changed: bool = False
    answer_changed_at: datetime | None = None

    @property
    def received(self) -> int:
        return len(self.latencies_ms)

    @property
    def loss_pct(self) -> float:
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 0.0


@dataclass(frozen=True, slots=True)
class DbSession:
    """One session of a database server: `blocked_by` are the pids holding the locks it
    waits for; times are seconds (None: not in a query or transaction)."""

    pid: int
    user: str
    database: str = ""
    client: str = ""
    state: str = ""  # active, idle, idle in transaction, ... as the engine says it
    query: str = ""
    query_s: float | None = None
    xact_s: float | None = None
    wait_s: float | None = None  # how long it has waited for a lock (None: not waiting)
    blocked_by: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DbReplica:
    """A replication peer as its primary sees it (or, on a replica, its primary)."""

    name: str
    state: str
    lag_s: float | None = None
    lag_bytes: float | None = None


@dataclass(frozen=True, slots=True)
class DbStatement:
    """A statement the engine aggregates (pg_stat_statements, performance_schema)."""

    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int | None = None


@dataclass(frozen=True, slots=True)
class DbFinding:
    """A database setting that matters for security, with what shows it (for the findings pane)."""

    check: str
    severity: str  # critical, major, minor, info
    title: str
    evidence: str


@dataclass(frozen=True, slots=True)
class DbStatus:
    """One round of one database: fast facts every interval, slow ones (sizes, statements,
    settings, backups) carried from their last slow round. Counters (`xacts`, `commands`,
    `evictions`) are raw; rates need two samples."""

    sampled_at: datetime
    engine: str
    latency_ms: float
    version: str | None = None
    uptime_s: float | None = None
    connections: int | None = None
    max_connections: int | None = None
    sessions: tuple[DbSession, ...] = ()
    role: str | None = None  # primary, replica
    lag_s: float | None = None  # a replica's, behind its primary
    lag_bytes: float | None = None
    replica_state: str | None = None
    replicas: tuple[DbReplica, ...] = ()
    cache_hit_pct: float | None = None
    xacts: float | None = None  # commits + rollbacks (counter)
    commands: float | None = None  # Redis: commands processed (counter)
    size_bytes: float | None = None
    sizes: tuple[tuple[str, float], ...] = ()
    statements: tuple[DbStatement, ...] = ()
    backup_age_s: float | None = None
    backup_note: str | None = None  # why there is no backup age (no file matches, cannot read)
    archive_failing: bool | None = None  # PostgreSQL's archiver: the last attempt failed
    archive_age_s: float | None = None  # since the last WAL segment archived
    memory_bytes: float | None = None  # Redis
    memory_max_bytes: float | None = None
    fragmentation: float | None = None
    evictions: float | None = None  # counter
    keyspace: tuple[tuple[str, int, int], ...] = ()  # (db, keys, expires)
    repl_offset: float | None = None
    findings: tuple[DbFinding, ...] = ()
    ended_blockers: tuple[str, ...] = ()  # blockers gone since the last rounds (their alerts clear)
    notes: tuple[str, ...] = ()  # what could not be read with this role (not assessed)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A parsed answer: a sample, or the reason the text could not be read."""

    sample: HostSample | None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.sample is not None


@dataclass(frozen=True, slots=True)
class HostInfo:
    """The identity of an observed target: configured (an SSH host) or discovered (a Prometheus
    target). `kind` and `name` make its target name, `host:web-01`; `source` says who reports it."""

    name: str
    address: str
    tags: tuple[str, ...] = ()
    group: str | None = None
    interval_s: float = 5.0
    kind: str = "host"
    source: str = "ssh"
    # What else identifies it, as (name, value), for its kind's pane and `poll`: a check's
    # `check` (tcp, http, dns, icmp), `from` (its vantage point) and `target`.
    facts: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> str:
        return f"{self.kind}:{self.name}"

    def fact(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.facts if k == name), default)

    @property
    def key(self) -> str:
        return target_key(self.kind, self.name)


def target_key(kind: str, name: str) -> str:
    """How the monitor, rules and incidents name a target: a host by its bare name (as
    incidents always have, so keys stored before targets had kinds still match), any other
    kind as `kind:name`, so a check and a host of the same name never meet."""
    return name if kind == "host" else f"{kind}:{name}"


@dataclass(frozen=True, slots=True)
class Observation:
    """What a collector reports after one attempt to sample a target (`host` is the target's
    name; `kind` its kind). `sample` is the kind's typed sample (HostSample for hosts)."""

    host: str
    state: HostState
    reason: str | None = None
    sample: HostSample | CheckResult | DbStatus | ScanResult | None = None
    extra: dict[str, str] = field(default_factory=dict)
    kind: str = "host"

    @property
    def target(self) -> str:
        return f"{self.kind}:{self.host}"

    @property
    def key(self) -> str:
        return target_key(self.kind, self.host)


# -- security findings ---------------------------------------------------------------------

FINDING_SEVERITIES = ("critical", "high", "medium", "low", "info")  # worst first


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check or scanner saw on one target, before the finding book gives it a state:
    `check` (`ssh-root-login`, `lynis:SSH-7408`, `trivy`) and `obj` (a port, an account, a
    package and CVE) make it the same finding in every later scan. `assessed=False`: the
    check could not run (its title says why, e.g. it needs root); it is shown, never judged."""

    check: str
    severity: str  # one of FINDING_SEVERITIES
    title: str
    evidence: str = ""
    obj: str = ""
    why: str = ""  # why it matters
    fix: str = ""  # how to fix it
    assessed: bool = True


@dataclass(frozen=True, slots=True)
class PatchState:
    """A host's packages and kernel as its package manager and /lib/modules say (None: unknown)."""

    manager: str | None = None  # apt, dnf, yum, apk
    pending: int | None = None
    security: int | None = None
    reboot_required: bool | None = None
    running_kernel: str | None = None
    newest_kernel: str | None = None

    @property
    def kernel_outdated(self) -> bool:
        return bool(self.running_kernel and self.newest_kernel and self.running_kernel != self.newest_kernel)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One security scan of one host over SSH: what it found, which checks it could judge
    (a finding of a judged check that is no longer found is fixed), and the patch state."""

    sampled_at: datetime
    findings: tuple[Finding, ...] = ()
    assessed: tuple[str, ...] = ()
    patches: PatchState = PatchState()
    seconds: float | None = None  # how long the scan ran on the host


# -- sources and metric points ------------------------------------------------------------


class SourceState(StrEnum):
    """The health of a source that speaks for many targets (a Prometheus server)."""

    UP = "up"
    DOWN = "down"  # refused, unreachable, HTTP error
    TIMEOUT = "timeout"  # slower than its `timeout`
    ERROR = "error"  # answered with something we cannot read, or tomconsole failed


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    state: SourceState
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """One round of a source that speaks for many targets. `targets` is every target the
    source knows this round; when the source itself is not UP it is empty and the targets
    seen before stay, going stale with the source's reason."""

    status: SourceStatus
    targets: tuple[HostInfo, ...] = ()
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A metric a source kind provides, defined once: its name, unit and meaning. `counter`:
    the kind yields a growing counter and the monitor turns it into a per-second rate.
    `per_object`: one value per object (mount, interface), else one per target."""

    name: str
    unit: str
    help: str
    per_object: bool = False
    counter: bool = False
    label: str = ""  # how a chart names it ("CPU %"); empty: the name


# -- actions ------------------------------------------------------------------------------
# What an operator does, as typed values. The console's keys, the CLI and the inbox build
# these; `Engine.act` applies and audits them; nothing dispatches on strings. `by` is who.


@dataclass(frozen=True, slots=True)
class Acknowledge:
    incident: str
    by: str


@dataclass(frozen=True, slots=True)
class Resolve:
    incident: str
    by: str


@dataclass(frozen=True, slots=True)
class Undo:
    """Take back one's own acknowledgement or resolution of `incident` moments after (`what`:
    ack or resolve); the book refuses it once UNDO_WITHIN has passed, for someone else's, or
    once the incident has left that state (a note or an assignment in between is kept)."""

    incident: str
    by: str
    what: str


@dataclass(frozen=True, slots=True)
class Escalate:
    incident: str
    by: str


@dataclass(frozen=True, slots=True)
class Assign:
    incident: str
    by: str
    to: str


@dataclass(frozen=True, slots=True)
class Note:
    incident: str
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class EngageVendor:
    """The vendor is working on it: from now its SLA clock runs on the incident."""

    incident: str
    by: str
    vendor: str
    ref: str = ""  # the vendor's ticket reference


@dataclass(frozen=True, slots=True)
class SetSeverity:
    incident: str
    by: str
    severity: str


@dataclass(frozen=True, slots=True)
class OpenIncident:
    title: str
    by: str
    severity: str = "major"
    host: str | None = None


@dataclass(frozen=True, slots=True)
class OpenWindow:
    """`scope` is `host:db-01 group:prod tag:web` (a bare word is a host); `duration` is `2h`,
    `90m` or `until 14:30`."""

    scope: str
    duration: str
    by: str
    reason: str = ""
    change: str | None = None


@dataclass(frozen=True, slots=True)
class EndWindow:
    window: str
    by: str


@dataclass(frozen=True, slots=True)
class ExtendWindow:
    window: str
    by: str
    duration: str


@dataclass(frozen=True, slots=True)
class AcceptHostKey:
    """Trust the key a host offered (seen by the operator as `fingerprint`); `key` is the
    OpenSSH public key line."""

    host: str
    fingerprint: str
    key: str
    by: str


@dataclass(frozen=True, slots=True)
class CancelQuery:
    """Cancel the query a database session runs (the session stays). `seen` is what the
    operator confirmed (user, query, duration), kept in the audit."""

    database: str
    pid: int
    by: str
    seen: str = ""


@dataclass(frozen=True, slots=True)
class TerminateSession:
    """End a database session (its transaction rolls back)."""

    database: str
    pid: int
    by: str
    seen: str = ""


@dataclass(frozen=True, slots=True)
class AcceptRisk:
    """Accept a finding's risk until `until` (an ISO date or time; it reopens then)."""

    finding: str  # its id (FND-000012) or key
    by: str
    reason: str
    until: str


@dataclass(frozen=True, slots=True)
class ImportFindings:
    """A scanner's report for one host, already read (findings/imports.py): its findings
    replace what the same scanner reported there before."""

    host: str
    scanner: str  # lynis, trivy
    findings: tuple[Finding, ...]
    by: str
    file: str = ""


@dataclass(frozen=True, slots=True)
class RanDiagnostic:
    """The audit record of one diagnostic run on a host (who, where, which, how it ended)."""

    host: str
    diagnostic: str
    by: str
    status: int | None
    bytes: int
    truncated: bool = False
    timed_out: bool = False
    command: str = ""  # only for a free command (allow_free_commands): what was typed
    stopped: bool = False  # the operator stopped it before it ended (Esc)


@dataclass(frozen=True, slots=True)
class AttachDiagnostic:
    """A diagnostic's output attached to an incident as a note (its evidence)."""

    incident: str
    by: str
    host: str
    diagnostic: str
    title: str
    at: str  # when it ran, ISO UTC
    status: int | None
    output: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class NewChange:
    """A change record, as a draft (CHG-n). `scope`: `host:NAME group:NAME tag:NAME db:NAME`."""

    title: str
    by: str
    risk: str  # low, medium, high
    scope: str
    start: str  # planned, ISO UTC
    end: str
    rollback: str = ""
    description: str = ""
    impact: str = ""
    implementer: str = ""  # default: who creates it
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class ChangeStep:
    """A change moved on: submit, approve, start, complete, rollback, fail or cancel."""

    change: str
    step: str
    by: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class OverrideOnCall:
    """Someone else is on call for a team from `start` to `end` (ISO UTC), and why."""

    team: str
    person: str  # who is on call instead
    start: str
    end: str
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class TickOnboarding:
    """A new member's onboarding item done."""

    member: str
    item: str
    by: str


@dataclass(frozen=True, slots=True)
class AddVendor:
    """A vendor kept in the store (its fields as the config's `vendors:` items have them)."""

    fields: tuple[tuple[str, Any], ...]
    by: str


@dataclass(frozen=True, slots=True)
class AddContract:
    """A contract kept in the store (its fields as the config's `contracts:` items have them)."""

    fields: tuple[tuple[str, Any], ...]
    by: str


@dataclass(frozen=True, slots=True)
class SpendEntry:
    """Money spent against a budget line (date ISO, amount in the line's currency)."""

    date: str
    line: str
    amount: float
    vendor: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class BookSpend:
    """Spend booked against budget lines: one entry typed, or every row of a CSV (all or none)."""

    entries: tuple[SpendEntry, ...]
    by: str
    source: str = "cli"  # where the entries came from: cli, or the CSV file's name


Action = (
    Acknowledge
    | Resolve
    | Undo
    | Escalate
    | Assign
    | Note
    | SetSeverity
    | OpenIncident
    | OpenWindow
    | EndWindow
    | ExtendWindow
    | AcceptHostKey
    | CancelQuery
    | TerminateSession
    | AcceptRisk
    | ImportFindings
    | RanDiagnostic
    | AttachDiagnostic
    | NewChange
    | ChangeStep
    | OverrideOnCall
    | TickOnboarding
    | BookSpend
    | EngageVendor
    | AddVendor
    | AddContract
)
