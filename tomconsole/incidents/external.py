"""Alerts from an Alertmanager as incidents in our queue, and our acknowledgements as
silences there.

Why: a team whose Prometheus already alerts through an Alertmanager works one queue, not
two. Each sync (every `interval`, from the Engine's housekeeping) reads every alert the
Alertmanager holds; each one is an incident keyed `alertmanager|<fingerprint>`, opened
through the book so it is audited, notified and deduplicated across restarts like ours.
Suppressed alerts stay open: the silence an ack makes suppresses them. An open
Alertmanager incident whose alert is gone resolves ("resolved in Alertmanager"), but only
after an answer that lists the alerts: a source that is down, slow or unreadable changes
no incident, it only shows in the source's status.

An acknowledgement here (`Engine.act(Acknowledge)`) then creates a silence there, matching
the alert's labels exactly, made by the operator, lasting `silence_for`, its comment
naming the incident; the silence id and its end go on the incident's timeline and in the
audit log. The decision when the silence cannot be made: the acknowledgement stands (it
is the operator's word, and it is already durable); the answer stays `ok` and carries a
one-line `warning`, and the failure is on the timeline. Alertmanager being unreachable is
retried on each later sync that reaches it; a silence Alertmanager refuses (HTTP 4xx) is
not asked for again. The same catch-up makes the silence for acknowledgements that came by
another way (the CLI's inbox, a CLI run while no console held the store), at the first
sync after them.

An operator who resolves an Alertmanager incident by hand is believed for that firing:
the alert still listed does not reopen it; the next firing (a new `startsAt`) does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tomconsole.collectors.alertmanager import KIND, NAME, AlertmanagerClient, SilenceError
from tomconsole.config.alertmanager import AlertmanagerConfig
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.incidents.operations import Refused
from tomconsole.models import SourceState, SourceStatus
from tomconsole.probes.alertmanager import KEY_PREFIX, AmAlert, incident_fields
from tomconsole.store import StoreError

RESOLVED = "resolved in Alertmanager"
log = logging.getLogger(__name__)


def from_alertmanager(inc: Incident) -> bool:
    return inc.key.startswith(KEY_PREFIX)


class AlertmanagerSync:
    """One Alertmanager's alerts kept in step with the book (None: a console with no store,
    which shows the source's state and changes nothing)."""

    def __init__(
        self,
        client: AlertmanagerClient,
        config: AlertmanagerConfig,
        book: IncidentBook | None,
        *,
        mono: Callable[[], float],
        wall: Callable[[], datetime],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.client, self.config, self.book = client, config, book
        self.status = SourceStatus(NAME, KIND, SourceState.UP)
        self._mono, self._wall, self._on_change = mono, wall, on_change
        self._next = mono()  # the first housekeeping syncs at once
        self._syncing = False
        self._silencing: set[str] = set()  # incidents whose silence is being made now

    # -- alerts in -------------------------------------------------------------------------

    async def sync_due(self) -> None:
        """Sync when `interval` has passed since the last one began (never two at once)."""
        if self._syncing or self._mono() < self._next:
            return
        self._syncing = True
        self._next = self._mono() + self.config.interval
        try:
            await self.sync()
        finally:
            self._syncing = False

    async def sync(self) -> None:
        status, alerts = await self.client.alerts()
        self.status = status
        book = self.book
        if status.state is not SourceState.UP or book is None or book.store.read_only:
            return  # a source that cannot be read changes nothing; a read-only console only shows
        changed = False
        try:
            changed = self._apply(book, alerts)
            changed = await self._silence_acknowledged(book) or changed
        except StoreError:
            pass  # reported by the store's listeners; the console is read-only now
        finally:
            if changed:
                self._on_change()

    def _apply(self, book: IncidentBook, alerts: list[AmAlert]) -> bool:
        changed = False
        firing: set[str] = set()
        for alert in alerts:
            f = incident_fields(alert)
            firing.add(f.key)
            origin = {"source": NAME, "fingerprint": f.fingerprint, "starts_at": f.starts_at}
            try:
                opened = book.open_external(f.key, f.title, f.severity, f.host, f.runbook, f.labels, origin)
            except Refused as exc:  # the probe keeps titles and severities within the book's limits
                log.warning("alert %s not opened: %s", f.fingerprint, exc)
                continue
            changed = changed or opened is not None
        for inc in book.open():
            if from_alertmanager(inc) and inc.key not in firing:
                book.resolve(inc.id, NAME, RESOLVED)
                changed = True
        return changed

    # -- acknowledgements out --------------------------------------------------------------

    async def after_ack(self, incident_id: str) -> dict[str, Any]:
        """After an acknowledgement was saved: the silence, recorded and durable. What the
        answer gains: `silence` (id, ends_at), or a one-line `warning`; nothing for an
        incident that did not come from Alertmanager."""
        book = self.book
        inc = book.incidents.get(incident_id) if book is not None else None
        if book is None or inc is None or not from_alertmanager(inc):
            return {}
        try:
            extra = await self._silence(book, inc)
            await book.store.durable()
        except StoreError as exc:
            return {"warning": f"the Alertmanager silence was not recorded: {exc}"}
        return extra

    async def _silence_acknowledged(self, book: IncidentBook) -> bool:
        """Make the silences acknowledgements still lack (made another way, or Alertmanager
        was out of reach then)."""
        todo = [
            i
            for i in book.open()
            if from_alertmanager(i)
            and i.state is IncidentState.ACKNOWLEDGED
            and not i.origin.get("silence_id")
            and not i.origin.get("silence_refused")
        ]
        for inc in todo:
            await self._silence(book, inc)
        return bool(todo)

    async def _silence(self, book: IncidentBook, inc: Incident) -> dict[str, Any]:
        if inc.id in self._silencing:
            return {}
        self._silencing.add(inc.id)
        try:
            who = inc.acknowledged_by or "tomconsole"
            until = (self._wall() + timedelta(seconds=self.config.silence_for)).isoformat()
            comment = f"tomconsole {inc.id}, acknowledged by {who}: {inc.title}"
            try:
                sid = await self.client.silence(inc.labels, who, datetime.fromisoformat(until), comment)
            except SilenceError as exc:
                return self._failed(book, inc, exc)
            inc.origin.pop("silence_error", None)
            origin = {"silence_id": sid, "silence_until": until}
            book.annotate(inc.id, "silence", "silenced in Alertmanager", who, f"{sid} until {until}", origin)
            return {"silence": {"id": sid, "ends_at": until}}
        finally:
            self._silencing.discard(inc.id)

    def _failed(self, book: IncidentBook, inc: Incident, exc: SilenceError) -> dict[str, Any]:
        reason = str(exc)
        later = "" if exc.permanent else "; tried again when Alertmanager answers"
        if inc.origin.get("silence_error") != reason:  # said once, not at every retry
            origin = {"silence_error": reason} | ({"silence_refused": "yes"} if exc.permanent else {})
            book.annotate(inc.id, "silence-failed", "no Alertmanager silence", "tomconsole", reason, origin)
        return {"warning": f"acknowledged, but no silence in Alertmanager: {reason}{later}"}

    async def close(self) -> None:
        await self.client.close()
