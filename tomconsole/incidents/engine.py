"""Observations in, incidents out: rules, maintenance windows, the incident book and the
notification outbox wired to a fleet, the same way under the UI and headless."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tomconsole.config import Config
from tomconsole.incidents.actions import answer, from_wire
from tomconsole.incidents.availability import Recorder
from tomconsole.incidents.book import IncidentBook, Policy, write_archive
from tomconsole.incidents.changes import ChangeBook
from tomconsole.incidents.desk import Desk
from tomconsole.incidents.inbox import process
from tomconsole.incidents.notify import Notifier
from tomconsole.incidents.oncall import OnCallBook
from tomconsole.incidents.team import TeamBook
from tomconsole.incidents.windows import WindowBook
from tomconsole.models import (
    AcceptRisk,
    Action,
    HostInfo,
    HostState,
    ImportFindings,
    SourceState,
    SourceStatus,
)
from tomconsole.monitor.rules import Phase, RuleEngine, Transition, rules_from_config
from tomconsole.monitor.state import FleetState, HostRow
from tomconsole.store import KEY, Store, StoreError

log = logging.getLogger(__name__)
PENDING = "pending"  # alerts waiting out their `for:`, with the wall time they started


def policy_from_config(config: Config) -> Policy:
    p = config.incidents
    return Policy(
        resolve_after=timedelta(seconds=p.resolve_after),
        reopen_within=timedelta(seconds=p.reopen_within),
        flap_window=timedelta(seconds=p.flap_window),
        flap_count=p.flap_count,
        ack_within=timedelta(seconds=p.ack_within),
        escalation=tuple(config.team.escalation),
        members=tuple(m.name for m in config.team.members),
        notify=tuple(config.notifications.events)
        if config.notifications.webhooks or config.notifications.command
        else (),
    )


class IncidentEngine:
    def __init__(
        self,
        fleet: FleetState,
        config: Config,
        store: Store,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fleet = fleet
        self.store = store
        self.rules = RuleEngine(rules_from_config(config.effective_rules))
        self.book = IncidentBook(store, policy_from_config(config), now=wall)
        self.windows = WindowBook(
            store, list(config.maintenance), now=wall, hosts=lambda: [v.info for v in fleet.views.values()]
        )
        self.changes = ChangeBook(store, self.windows, config.changes, now=wall)
        members = tuple(m.name for m in config.team.members)
        self.oncall = OnCallBook(store, list(config.oncall.rotations), now=wall, members=members)
        self.book.on_call = self.oncall.people_now if config.oncall.rotations else None
        self.desk = Desk(self.changes, self.oncall, TeamBook(store, config, now=wall))
        self.notifier = Notifier(store, config.notifications, store.directory, now=wall)
        self.uptime = Recorder(store)  # up/down transitions, for availability (incidents/availability.py)
        self._mono = mono
        self._archive_after = timedelta(seconds=config.incidents.archive_after)
        self._next_archive = mono()
        self._silenced: dict[str, Transition] = {}
        self._looked: dict[str, tuple[int, HostState]] = {}
        self.listeners: list[Callable[[], None]] = []
        # Targets that are not the fleet's (the finding book's `findings:NAME` counts), for
        # the rules, and who applies the actions handed in that are not incident actions.
        self.extra_rows: list[Callable[[], list[HostRow]]] = []
        self.delegate: Callable[[Action], dict[str, Any]] | None = None
        self._wall = wall
        self._restore_alerts()
        fleet.subscribe(self.observe)
        fleet.subscribe_gone(self.gone)

    def _restore_alerts(self) -> None:
        """Alerts resume where the last process left them: firing while their incident is open
        (no re-fire, no false flap), pending with the time they started waiting."""
        now_mono, now_wall = self._mono(), self._wall()
        for inc in self.book.open():
            if inc.rule and inc.clear_since is None:
                self.rules.restore(inc.key, Phase.FIRING, now_mono)
        for doc in self.store.all(PENDING):
            waited = (now_wall - datetime.fromisoformat(doc["since"])).total_seconds()
            self.rules.restore(doc[KEY], Phase.PENDING, now_mono - max(0.0, waited))

    def _save_pending(self) -> None:
        changes, self.rules.pending_changes = self.rules.pending_changes, []
        if not changes or self.store.read_only:
            return
        now_mono, now_wall = self._mono(), self._wall()
        with self.store.transaction():
            for key, since in changes:
                if since is None:
                    self.store.delete(PENDING, key)
                else:
                    self.store.put(
                        PENDING, key, {"since": (now_wall - timedelta(seconds=now_mono - since)).isoformat()}
                    )

    def gone(self, info: HostInfo) -> None:
        """A source stopped reporting a target (a Prometheus target removed): its firing alerts
        clear, so their incidents resolve after `resolve_after` instead of staying open."""
        self._looked.pop(info.key, None)
        if self.store.read_only:
            return
        with contextlib.suppress(StoreError):
            transitions = self.rules.forget(info.key, self._mono())
            self._save_pending()
            for t in transitions:
                self._silenced.pop(t.key, None)
                self.book.on_transition(t)
            if transitions:
                self._changed()

    def observe(self, host: str) -> None:
        row = self.fleet.row(host)
        if row is not None:
            with contextlib.suppress(StoreError):  # reported by the store's listeners; now read-only
                self._evaluate(row)

    def _evaluate(self, row: HostRow) -> None:
        if self.store.read_only:
            return  # another console owns the incidents; this one only shows them
        self._looked[row.info.key] = (row.version, row.state)
        if row.info.kind == "host":
            self.uptime.see(row.info.name, row.info.group, row.state, self._wall())
        source = self.fleet.sources.get(row.info.source)
        if source is not None and source.state is not SourceState.UP and row.info.kind != "source":
            return  # its source is down: one source-down alert, not one stale alert per host
        changed = False
        transitions = self.rules.evaluate(row, self._mono())
        self._save_pending()
        for t in transitions:
            if t.firing:
                windows = self.windows.active_for(row.info)
                if windows:
                    if t.key not in self._silenced:
                        self.windows.log_silenced(
                            windows, t.key, f"{t.rule.name} on {t.host} {t.obj}".strip()
                        )
                    self._silenced[t.key] = t
                    continue
            else:
                self._silenced.pop(t.key, None)
            self.book.on_transition(t)
            changed = True
        if changed:
            self._changed()

    async def archive_due(self) -> int:
        """Hourly: move old resolved incidents and audit records to archive.json, the file
        written on a thread (it is fsynced), the live store changed on the loop."""
        if self.store.read_only or self._mono() < self._next_archive:
            return 0
        self._next_archive = self._mono() + 3600
        plan = self.book.archive_plan(self._archive_after)
        if plan is None:
            return 0
        try:
            await asyncio.to_thread(write_archive, self.store.directory, plan)
            return self.book.forget(plan)
        except StoreError as exc:
            log.warning("archive not written: %s", exc)
            return 0

    async def process_inbox(self) -> int:
        """Apply the actions other processes (the CLI) handed to this one, each answered once
        it is durable; how many. A store that fails here is reported by its own listeners."""
        if self.store.read_only:
            return 0
        try:
            return await process(self.store, self._answer, self.store.durable)
        except StoreError:
            return 0

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            action = from_wire(request)
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        if self.delegate is not None and isinstance(action, AcceptRisk | ImportFindings):
            return self.delegate(action)
        return answer(self.book, self.windows, action, self.desk)

    def tick(self) -> None:
        """Time-driven work: `for:` on quiet hosts, staleness, ended windows, resolve, escalate."""
        with contextlib.suppress(StoreError):  # reported by the store's listeners; now read-only
            self._tick()

    def _tick(self) -> None:
        if self.store.read_only:
            return
        self.uptime.flush()
        for status in list(self.fleet.sources.values()):
            self._evaluate(_source_row(status))
        for provide in self.extra_rows:
            for row in provide():
                key = row.info.key
                if key in self.rules.waiting or self._looked.get(key) != (row.version, row.state):
                    self._evaluate(row)
        # Only what changed since its last look (a new sample, stale by now) or has an alert
        # waiting out its `for:`: a quiet fleet of 5,000 costs almost nothing.
        for row in self.fleet.rows_to_review(self._looked, self.rules.waiting):
            self._evaluate(row)
        for key, t in list(self._silenced.items()):
            view = self.fleet.views.get(t.host)
            if view is not None and not self.windows.active_for(view.info):
                del self._silenced[key]  # the window ended with the alert still firing: open it now
                self.book.on_transition(dataclasses.replace(t, at=self._mono()))
        before = {i.id: (i.state, i.escalations, i.suppressed) for i in self.book.open()}
        self.book.tick()
        after = {i.id: (i.state, i.escalations, i.suppressed) for i in self.book.open()}
        if before != after:
            self._changed()

    def _changed(self) -> None:
        for cb in self.listeners:
            cb()


_SOURCE_STATE = {
    SourceState.UP: HostState.UP,
    SourceState.DOWN: HostState.UNREACHABLE,
    SourceState.TIMEOUT: HostState.TIMEOUT,
    SourceState.ERROR: HostState.ERROR,
}


def _source_row(status: SourceStatus) -> HostRow:
    """A many-target source as a target of its own (`source:prometheus`), for the rules."""
    info = HostInfo(status.name, status.name, (), None, 0.0, kind="source", source=status.name)
    return HostRow(info, _SOURCE_STATE[status.state], status.reason, None, None, None, None)
