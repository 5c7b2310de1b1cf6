"""The one composition root: a Config in, the running system out.

From a config the Engine builds the sources (SSH hosts, this machine, Prometheus, and any
source handed in), the fleet state and scheduler, the store and the incident engine, and,
when `alertmanager:` is set, the sync that keeps its alerts in the incident queue. The
console, `poll` and the tests all receive an Engine; none builds its own parts. Readers
take `snapshot()` and `subscribe()` to changes; operators change things only through
`act(Action)`, which applies, audits and waits until the change is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tomconsole.config import Config
from tomconsole.findings.actions import apply_finding_action
from tomconsole.findings.archive import archive_plan, forget, write_archive
from tomconsole.findings.book import FindingBook
from tomconsole.findings.feed import FindingFeed
from tomconsole.incidents import handover
from tomconsole.incidents.actions import answer
from tomconsole.incidents.book import AUDIT
from tomconsole.incidents.commercial import with_stored
from tomconsole.incidents.contracts import LAPSED_CHECK, lapsed, open_renewal_tasks
from tomconsole.incidents.deskview import DeskView, desk_view, oncall_header
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.incidents.model import Incident
from tomconsole.models import (
    AcceptHostKey,
    AcceptRisk,
    Acknowledge,
    Action,
    AddContract,
    AddVendor,
    CancelQuery,
    Finding,
    HostInfo,
    HostState,
    ImportFindings,
    SourceState,
    SourceStatus,
    TerminateSession,
    visible,
)
from tomconsole.monitor.databases import DbView, db_view
from tomconsole.monitor.network import CheckView, CheckViews
from tomconsole.monitor.scheduler import Scheduler
from tomconsole.monitor.state import FleetState, HostRow
from tomconsole.monitor.views import RowViews
from tomconsole.probes import BUILTIN_KINDS
from tomconsole.store import Store, StoreError, describe

if TYPE_CHECKING:  # the clients are imported only when something is polled (a CLI write is quick)
    from tomconsole.collectors.sources import Source
    from tomconsole.incidents.external import AlertmanagerSync
    from tomconsole.troubleshoot.desk import Troubleshooter


log = logging.getLogger(__name__)
DROP_EVERY_S = 5.0  # the console looks into security.drop_folder this often
CONTRACTS_EVERY_S = 60.0  # and at the contracts' notice dates this often


READ_ONLY_BANNER = "read-only console: every action is refused and nothing is written (--read-only)"


@dataclass(frozen=True)
class Snapshot:
    """Everything a face (console, poll, wall) shows, at one moment."""

    hosts: list[HostRow]
    sources: list[SourceStatus]
    incidents: list[Incident]
    checks: list[CheckView] = field(default_factory=list)  # network checks, one per vantage
    targets: list[HostRow] = field(default_factory=list)  # every target, of every kind
    databases: list[DbView] = field(default_factory=list)  # db: targets, in config order
    findings: list[dict[str, Any]] = field(default_factory=list)  # the finding book, resolved too
    scans: list[HostRow] = field(default_factory=list)  # scan: targets (their patch state)
    finding_scans: list[dict[str, Any]] = field(default_factory=list)  # each last scan's new and fixed
    drop_failures: list[str] = field(default_factory=list)  # reports the drop folder could not import
    maintenance: frozenset[str] = frozenset()  # hosts a maintenance window covers now
    during: dict[str, list[str]] = field(default_factory=dict)  # incident id -> the changes it came during
    desk: DeskView | None = None  # changes, on call, team: when asked for (the operations pane)
    oncall: tuple[str, str] | None = None  # who is on call now, and next: the header's


class Engine:
    """The running system one config describes; see the module docstring."""

    def __init__(
        self,
        config: Config,
        *,
        data_dir: Path | None = None,
        role: str = "console",
        background: bool = True,
        read_only: bool = False,
        lock_wait: float = 0.0,
        sources: Sequence[Source] | None = None,
        poll: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`data_dir` None: no store, no incidents (a bare fleet view). `role`, `background`,
        `read_only` and `lock_wait` are the store's (see store.Store). `sources` replaces the
        config's. `poll=False` (a CLI command) builds no sources and no clients: the fleet
        holds the configured hosts, for names, and nothing is collected."""
        self.config = config
        self.base_config = config  # the file's; `config` adds what the store holds (vendors, contracts)
        if sources is None and poll:
            from tomconsole.collectors.sources import from_config

            sources = from_config(config)
        self.sources = list(sources or ())
        kinds = {**BUILTIN_KINDS, **{s.kind.name: s.kind for s in self.sources}}
        infos = [info for s in self.sources for info in s.targets()] if poll else config.host_infos()
        self.fleet = FleetState(infos, config.history_points, config.stale_after, clock=clock, kinds=kinds)
        self._check_views = CheckViews(self.fleet)
        self._db_views = RowViews(db_view)
        self.scheduler = Scheduler(self.fleet, [c for s in self.sources for c in s.collectors()])
        self.store: Store | None = None
        self.store_error: StoreError | None = None  # why there is no store, when there is none
        self.store_problem: str | None = None  # the same, as the console's banner says it
        self.incidents: IncidentEngine | None = None
        self.findings: FindingBook | None = None
        self.feed: FindingFeed | None = None
        if data_dir is not None:
            try:
                self.store = Store(
                    data_dir, role=role, background=background, read_only=read_only, wait=lock_wait
                )
            except StoreError as exc:
                self.store_error, self.store_problem = exc, f"incidents unavailable: {exc}"
            else:
                self.incidents = IncidentEngine(self.fleet, config, self.store, wall=wall)
                # availability is what a watching console saw: a one-shot `poll` records none
                self.incidents.uptime.enabled = role == "console"
                self.config = with_stored(config, self.store)  # vendors and contracts added from the shell
                self.findings = FindingBook(
                    self.store, wall, config.security.incident_severity, infos=self.host_info
                )
                self.incidents.extra_rows.append(self.findings.rows)
                self.incidents.delegate = lambda a: apply_finding_action(self.findings, a)  # type: ignore[arg-type]
                self.findings.listeners.append(self._incidents_changed)
                if poll:
                    self.feed = FindingFeed(self.fleet, self.findings, config, clock)
        self._wall = wall
        self._contracts_due = 0.0  # when to look at the contracts' notice dates next
        self.handoffs_written: list[str] = []  # handoff reports written at handover, for the face to say
        self.handoff_problem: str | None = None
        self._background = background
        self._drop_due = 0.0
        self._archive_due = time.monotonic()
        self.alertmanager: AlertmanagerSync | None = None
        self._sync: asyncio.Task[None] | None = None
        self._troubleshooter: Troubleshooter | None = None
        if config.alertmanager is not None and poll:
            from tomconsole.collectors.alertmanager import AlertmanagerClient
            from tomconsole.incidents.external import AlertmanagerSync

            self.alertmanager = AlertmanagerSync(
                AlertmanagerClient(config.alertmanager),
                config.alertmanager,
                self.incidents.book if self.incidents is not None else None,
                mono=clock,
                wall=wall,
                on_change=self._incidents_changed,
            )

    @property
    def troubleshooter(self) -> Troubleshooter:
        """Process tables and audited diagnostics on this console's SSH hosts."""
        if self._troubleshooter is None:
            from tomconsole.collectors.ssh import SshCollector
            from tomconsole.troubleshoot.desk import Troubleshooter
            from tomconsole.troubleshoot.diagnostics import Diagnostics

            hosts = {c.name: c for s in self.sources for c in s.collectors() if isinstance(c, SshCollector)}
            infos = {i.name: i for i in self.config.host_infos()}
            diags = Diagnostics(self.config, hosts, infos, self._wall)
            self._troubleshooter = Troubleshooter(diags, hosts, self.act, self._cannot_write)
        return self._troubleshooter

    def _cannot_write(self) -> str | None:
        if self.incidents is None:
            return self.store_problem or "there is no data directory to audit in"
        store = self.incidents.store
        return (store.banner or "the store is read-only") if store.read_only else None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Continuous mode: every collector on its own grid (call from inside the loop)."""
        self.scheduler.start()

    async def round(self) -> None:
        """Every source once, then the incident work a round implies (`poll`). Without a
        writer thread (`poll`), what the round changes is written once at its end: a source
        going down under 1,000 hosts is one write, not one per incident."""
        one_write = self.store is not None and not self._background and not self.store.read_only
        hold = self.store.transaction() if one_write and self.store else contextlib.nullcontext()
        # A failed write is reported by the store's listeners (the store is then read-only).
        if self.feed is not None and not self.feed.book.store.read_only:
            with contextlib.suppress(StoreError):  # before the rules look: a dropped report counts now
                await self.feed.import_dropped()
        with contextlib.suppress(StoreError), hold:
            await self.scheduler.round()
            if self.incidents is not None:
                self.incidents.tick()
        await self.housekeeping(wait=True)

    async def housekeeping(self, *, wait: bool = False) -> None:
        """The inbox, hourly archiving, the Alertmanager's alerts when they are due; the
        console runs this every second. A read-only engine follows the store another process
        writes (a NOC console beside the one that acts)."""
        if self.store is not None and self.store.follow():
            if self.incidents is not None:
                self.incidents.book.reload()
            if self.findings is not None:
                self.findings.reload()
            self._incidents_changed()
        if self.incidents is not None:
            await self.incidents.process_inbox()
            await self.incidents.archive_due()
            if self.config.oncall.rotations:
                await self._write_handoffs()
            if time.monotonic() >= self._contracts_due:
                self._contracts_due = time.monotonic() + CONTRACTS_EVERY_S
                # one added from the shell through the inbox, or by the console that acts
                self.config = with_stored(self.base_config, self.incidents.store)
                self._renewal_tasks()
        if self.findings is not None and not self.findings.store.read_only:
            await self._archive_findings()
            with contextlib.suppress(StoreError):  # reported by the store's listeners
                self.findings.tick()
                if self.feed is not None and time.monotonic() >= self._drop_due:
                    self._drop_due = time.monotonic() + DROP_EVERY_S
                    await self.feed.import_dropped()
        if self.alertmanager is not None:
            if wait:  # a poll round reports what Alertmanager said in it
                await self.alertmanager.sync_due()
            elif self._sync is None or self._sync.done():
                # On its own task: a slow Alertmanager (up to its `timeout`) never holds up
                # the inbox, `for:`, resolve and escalation that run every second.
                self._sync = asyncio.create_task(self.alertmanager.sync_due(), name="alertmanager")

    def _renewal_tasks(self) -> None:
        """A contract's notice date is near: its task in the queue, once (incidents/contracts.py)."""
        ie = self.incidents
        assert ie is not None
        ahead = timedelta(seconds=self.config.budget.renewal_notice)
        local = self._wall().astimezone()  # contracts run by calendar days, the operator's
        with contextlib.suppress(StoreError):  # reported by the store's listeners
            if open_renewal_tasks(ie.book, ie.store, self.config.contracts, local, ahead):
                self._incidents_changed()
            if self.findings is not None and not self.findings.store.read_only:
                self._lapsed_findings()

    def _lapsed_findings(self) -> None:
        """A contract that has ended while it still names a live host (and no other covers
        it) is a finding on that host; it resolves when a contract covers the host again."""
        book = self.findings
        assert book is not None
        hosts = [v.info for v in self.fleet.views.values() if v.info.kind == "host"]
        found: dict[str, list[Finding]] = {}
        for c, host in lapsed(self.config.contracts, hosts, self._wall().astimezone().date()):
            found.setdefault(host, []).append(
                Finding(
                    LAPSED_CHECK,
                    "medium",
                    f"contract {c.name} ({c.vendor}) ended {c.end.isoformat()}: no contract covers this host",
                    f"{c.name} covers {c.covers}",
                    obj=c.name,
                    why="a failure here has no vendor support and no SLA",
                    fix="renew the contract, or list the one that covers it now under contracts:",
                )
            )
        listed: dict[str, set[str]] = {}  # what is open now, per host: merge only what changed
        for r in book.records.values():
            if r["scanner"] == "contracts" and r["state"] != "resolved":
                listed.setdefault(r["host"], set()).add(r["obj"])
        for host in set(found) | set(listed):
            if {f.obj for f in found.get(host, [])} != listed.get(host, set()):
                book.merge(host, "contracts", found.get(host, []), judged=(LAPSED_CHECK,))

    async def _write_handoffs(self) -> None:
        """A shift ended: its handoff report to handoffs/ (incidents/handover.py), said once."""
        ie = self.incidents
        assert ie is not None
        try:
            for h in handover.due(ie, self.config.oncall.rotations, self._wall()):
                await asyncio.to_thread(handover.write, h)
                handover.record(ie, h)
                if h.path is not None:
                    self.handoffs_written.append(str(h.path))
        except (StoreError, OSError) as exc:
            if self.handoff_problem is None:
                log.error("handoff report not written: %s", exc)
            self.handoff_problem = f"handoff report not written: {exc}"
            return
        self.handoff_problem = None

    async def _archive_findings(self) -> None:
        """Hourly: resolved findings older than `incidents.archive_after` to archive.json (the
        file written on a thread, fsynced), then out of the live store."""
        book = self.findings
        if book is None or time.monotonic() < self._archive_due:
            return
        self._archive_due = time.monotonic() + 3600
        plan = archive_plan(book, timedelta(seconds=self.config.incidents.archive_after))
        if not plan:
            return
        try:
            await asyncio.to_thread(write_archive, book.store.directory, plan)
            forget(book, plan)
        except StoreError as exc:
            log.warning("findings not archived: %s", exc)

    def tick(self) -> None:
        """Time-driven incident work (`for:` on quiet targets, resolve, escalate)."""
        if self.incidents is not None:
            self.incidents.tick()

    def close(self) -> None:
        """For a short-lived writer or reader that never started: release the store."""
        if self.store is not None:
            self.store.close()

    async def stop(self) -> None:
        await self.scheduler.stop()
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sync
        if self.alertmanager is not None:
            await self.alertmanager.close()
        if self.store is not None:
            with contextlib.suppress(StoreError):  # already reported by the store's listeners
                if self.incidents is not None:
                    self.incidents.uptime.flush()  # the last second's transitions
                await self.store.durable()
            self.store.close()

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self, *, check_stale: bool = True, desk: bool = False) -> Snapshot:
        """Everything a face shows now; `desk`: the operations desk too (its calendar, on-call
        lines and team: built only for the face that shows them)."""
        incidents = self.incidents.book.open() if self.incidents is not None else []
        rows = self.fleet.rows(check_stale=check_stale)
        hosts = [r for r in rows if r.info.kind == "host"]
        checks = self._check_views([r for r in rows if r.info.kind == "check"])
        dbs = self._db_views([r for r in rows if r.info.kind == "db"])
        book = self.findings
        findings = book.listing(everything=True) if book is not None else []
        diffs = book.diff() if book is not None else []
        scans = [r for r in rows if r.info.kind == "scan"]
        failed = list(self.feed.failures) if self.feed is not None else []
        windows = self.incidents.windows if self.incidents is not None else None
        maint = windows.covering([r.info for r in hosts]) if windows is not None else frozenset()
        during = self.incidents.changes.links(incidents, self.host_info) if self.incidents is not None else {}
        desk_now, oncall = None, None
        if self.incidents is not None and self.config.oncall.rotations:
            oncall = oncall_header(self.incidents.oncall, self.config, self._wall())
        if self.incidents is not None and desk:
            inc = self.incidents
            desk_now = desk_view(
                inc.desk,
                self.config,
                list(inc.book.incidents.values()),
                self.host_info,
                lambda: [v.info for v in self.fleet.views.values()],
                inc.book.escalation(),
                self._wall(),
            )
        return Snapshot(
            hosts,
            self.source_statuses(),
            incidents,
            checks,
            rows,
            dbs,
            findings,
            scans,
            diffs,
            failed,
            maint,
            during,
            desk_now,
            oncall,
        )

    def now(self) -> datetime:
        """The engine's wall clock (UTC): what its records are stamped with."""
        return self._wall()

    def host_info(self, name: str) -> HostInfo | None:
        view = self.fleet.views.get(name)
        return None if view is None else view.info

    def source_statuses(self) -> list[SourceStatus]:
        """Each source's own state: a many-target source reports it; a per-host source (SSH,
        local) is up, its hosts carry their own states."""
        out = []
        for s in self.sources:
            known = self.fleet.sources.get(s.name)
            out.append(known or SourceStatus(s.name, s.kind.name, SourceState.UP))
        if self.alertmanager is not None:
            out.append(self.alertmanager.status)
        return out

    def as_read_only_console(self) -> None:
        """`--read-only` and the wall: say so on the banner, after whatever the store said
        (a recovery from a backup must not be hidden by it)."""
        if self.store is not None:
            self.store.banner = " | ".join(b for b in (self.store.banner, READ_ONLY_BANNER) if b)

    def subscribe(self, on_target: Callable[[str], None], on_incidents: Callable[[], None]) -> None:
        """`on_target(name)` after every observation; `on_incidents()` when incidents change."""
        self.fleet.subscribe(on_target)
        if self.incidents is not None:
            self.incidents.listeners.append(on_incidents)

    # -- acting ----------------------------------------------------------------------------

    async def act(self, action: Action) -> dict[str, Any]:
        """Apply and audit an operator's action; return once it is durable. The answer is
        `{"ok": True, ...}` or `{"ok": False, "error": why}` (refused, or not saved)."""
        eng = self.incidents
        if eng is None:
            return {"ok": False, "error": self.store_problem or "incidents are off: no data directory"}
        if eng.store.read_only:
            return {"ok": False, "error": eng.store.banner or "read-only"}
        try:
            if isinstance(action, AcceptHostKey):
                reply = await self._accept_host_key(action)
            elif isinstance(action, CancelQuery | TerminateSession):
                reply = await self._signal_session(action)
            elif isinstance(action, AcceptRisk | ImportFindings):
                assert self.findings is not None
                reply = apply_finding_action(self.findings, action)
            else:
                reply = answer(eng.book, eng.windows, action, eng.desk)
            await eng.store.durable()
        except StoreError as exc:
            return {"ok": False, "error": f"not saved: {exc}", "not_saved": True}
        if isinstance(action, AddVendor | AddContract) and reply.get("ok"):
            self.config = with_stored(self.base_config, eng.store)
        if isinstance(action, Acknowledge) and reply.get("ok") and self.alertmanager is not None:
            reply.update(await self.alertmanager.after_ack(action.incident))  # the ack stands either way
        return reply

    def _incidents_changed(self) -> None:
        if self.incidents is not None:
            for cb in self.incidents.listeners:
                cb()

    async def _accept_host_key(self, action: AcceptHostKey) -> dict[str, Any]:
        """Trust the key a host offers now, and only that one: the host must be in
        `hostkey_unknown` and still offer the key (and fingerprint) the operator was shown.
        A changed key is never trusted this way. The file is written off the event loop."""
        row = self.fleet.row(action.host)
        if row is None or row.state is not HostState.HOSTKEY_UNKNOWN:
            now = row.state.value if row is not None else "not a host of this console"
            return {
                "ok": False,
                "error": f"{action.host}: only an unknown host key can be trusted here ({now})",
            }
        if row.extra.get("key") != action.key or row.extra.get("fingerprint") != action.fingerprint:
            return {
                "ok": False,
                "error": f"{action.host}: it now offers another key than the one shown; look again",
            }
        from tomconsole.collectors.sources import TrustsHostKeys

        source = next((s for s in self.sources if isinstance(s, TrustsHostKeys)), None)
        if source is None:
            return {"ok": False, "error": "no SSH source to trust a key for"}
        try:
            path = await asyncio.to_thread(
                source.accept_host_key, action.host, action.key, row.extra.get("known_as")
            )
        except OSError as exc:
            return {"ok": False, "error": f"{action.host}: key not trusted: cannot write: {describe(exc)}"}
        except ValueError as exc:
            return {"ok": False, "error": f"{action.host}: key not trusted: {exc}"}
        assert self.store is not None
        self.store.append(
            AUDIT,
            {
                "at": self._wall().isoformat(),
                "who": action.by,
                "action": "accept-host-key",
                "host": action.host,
                "fingerprint": action.fingerprint,
                "file": str(path),
            },
        )
        return {"ok": True, "host": action.host, "file": str(path)}

    async def _signal_session(self, action: CancelQuery | TerminateSession) -> dict[str, Any]:
        """Cancel a query or end a session on a database configured `write: true`; refused
        (and still audited) otherwise. The audit says who, which session, what they saw."""
        from tomconsole.collectors.db_clients import DbFailure
        from tomconsole.collectors.sources import SignalsSessions

        terminate = isinstance(action, TerminateSession)
        verb = "terminate-session" if terminate else "cancel-query"
        source = next((s for s in self.sources if isinstance(s, SignalsSessions)), None)
        outcome: str
        try:
            db = next((d for d in self.config.databases if d.name == action.database), None)
            if db is None:
                raise ValueError(f"{action.database} is not a database of this console")
            if not db.write:
                raise PermissionError(
                    f"{action.database} is read-only here: set `write: true` on it to allow this"
                )
            if source is None:
                raise ValueError("no databases are polled")
            done = await source.signal_session(action.database, action.pid, terminate)
            outcome = "done" if done else "no such session (it had ended)"
        except PermissionError as exc:
            outcome, error = "refused", str(exc)
        except (ValueError, DbFailure, TimeoutError, OSError) as exc:
            outcome, error = "failed", (str(exc) or type(exc).__name__)
        except Exception as exc:  # a driver's own error: said, audited, never raised into the UI
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        assert self.store is not None
        self.store.append(
            AUDIT,
            {
                "at": self._wall().isoformat(),
                "who": action.by,
                "action": verb,
                "target": f"db:{action.database}",
                "pid": action.pid,
                "seen": action.seen,
                "outcome": outcome,
            },
        )
        what = f"{'session' if terminate else 'query of session'} {action.pid} on {action.database}"
        if outcome in ("refused", "failed"):
            return {
                "ok": False,
                "error": f"{visible(what)}: not {'ended' if terminate else 'cancelled'}: {error}",
            }
        return {"ok": True, "database": action.database, "message": f"{what}: {outcome}"}
