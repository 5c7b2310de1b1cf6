"""The finding book: every finding of every target with its lifecycle, kept in the store
beside the incident book.

A finding is keyed by target + check + object (`web-01|listening-port|tcp/8080`), stable
across restarts and scans. States: `open`; `accepted` (reason, owner, expiry; it reopens at
expiry); `resolved` (the check ran again and no longer sees it, or the scanner stopped
reporting it: never because a scan did not run); `not_assessed` (the check could not run,
e.g. it needs root). A merge is one store transaction; each scan's new and fixed findings
are kept as its diff. Open findings per target, counted by severity, are the `findings:NAME`
rows the rules read, so severe ones open one incident per target, not one per CVE.

The clock is injected (`now`), so expiry and resolution are tested as scripted sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tomconsole.models import FINDING_SEVERITIES, Finding, HostInfo, HostState
from tomconsole.monitor.state import HostRow
from tomconsole.probes.security import FINDINGS, FindingCounts
from tomconsole.store import Store

T = TypeVar("T")
TABLE, SCANS, META = "findings", "finding_scans", "finding_meta"
AUDIT = "audit"  # the same audit log the incident book writes
STATES = ("open", "accepted", "resolved", "not_assessed")
LIVE = ("open", "accepted", "not_assessed")
TOUCH_EVERY = timedelta(minutes=10)
MAX_ACCEPT = timedelta(days=366)  # last_seen of an unchanged finding is written this often
HISTORY_CAP = 50
NOT_ASSESSED = "not-assessed"  # the object of a check's "could not judge" finding


def severity_counts(docs: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Open findings per severity (accepted and resolved ones are not counted)."""
    out = dict.fromkeys(FINDING_SEVERITIES, 0)
    for d in docs:
        if d["state"] == "open" and d["severity"] in out:
            out[d["severity"]] += 1
    return out


def rank(severity: str) -> int:
    return FINDING_SEVERITIES.index(severity) if severity in FINDING_SEVERITIES else len(FINDING_SEVERITIES)


def finding_key(host: str, check: str, obj: str) -> str:
    return f"{host}|{check}|{obj}"


@dataclass
class MergeResult:
    added: list[str] = field(default_factory=list)  # new, or back after being resolved
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)  # the part of `added` seen before

    def summary(self) -> str:
        again = f" ({len(self.reopened)} of them seen before)" if self.reopened else ""
        return f"{len(self.added)} added{again}, {len(self.updated)} updated, {len(self.resolved)} resolved"


@dataclass
class FindingBook:
    store: Store
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    incident_severity: str = "high"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: list[Callable[[], None]] = field(default_factory=list)
    infos: Callable[[str], HostInfo | None] = field(default=lambda _name: None)
    _versions: dict[str, tuple[int, tuple[Any, ...]]] = field(default_factory=dict)
    version: int = 0  # moves with every change (readers cache on it)
    _memos: dict[str, tuple[int, Any]] = field(default_factory=dict)
    _last_id: int | None = None

    def __post_init__(self) -> None:
        self.reload()
        self.store.failure_listeners.append(lambda _err: self.reload())

    def reload(self) -> None:
        self.records = dict(self.store.keyed(TABLE))
        self._last_id = None
        self.version += 1

    # -- reading -----------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, Any] | None:
        """A finding by id (FND-000012, any case) or by key."""
        if ref in self.records:
            return self.records[ref]
        want = ref.upper()
        return next((r for r in self.records.values() if r["id"] == want), None)

    def as_of_now(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The finding as it stands now: an acceptance that has expired is open again even
        where nothing has written that yet (a read-only command while no console runs)."""
        a = doc.get("accepted")
        if doc["state"] != "accepted" or not a or datetime.fromisoformat(a["until"]) > self.now():
            return doc
        return {**doc, "state": "not_assessed" if doc["obj"] == NOT_ASSESSED else "open"}

    def _memo(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`'s answer, worked out again only when the book changed: the screen and
        the incident clock read the book every second, it changes once a scan."""
        kept = self._memos.get(name)
        if kept is not None and kept[0] == self.version:
            answer: T = kept[1]
            return answer
        answer = compute()
        self._memos[name] = (self.version, answer)
        return answer

    def listing(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """Live findings (resolved too with `everything`), worst first, then by target."""

        def compute() -> list[dict[str, Any]]:
            docs = [r for r in self.records.values() if everything or r["state"] in LIVE]
            return sorted(docs, key=lambda r: (rank(r["severity"]), r["host"], r["check"], r["obj"]))

        return self._memo(f"listing:{everything}", compute)

    def diff(self) -> list[dict[str, Any]]:
        """Each target's last scan per scanner: when, and the keys it found new and fixed."""
        return self._memo(
            "diff", lambda: sorted(self.store.all(SCANS), key=lambda d: str(d.get("at", "")), reverse=True)
        )

    def counts(self, host: str) -> FindingCounts:
        return self._all_counts().get(host) or FindingCounts(
            tuple(dict.fromkeys(FINDING_SEVERITIES, 0).items()), 0
        )

    def _all_counts(self) -> dict[str, FindingCounts]:
        """Every target's counts, worked out in one pass when the book changed."""

        def compute() -> dict[str, FindingCounts]:
            per: dict[str, list[dict[str, Any]]] = {}
            for r in self.records.values():
                per.setdefault(r["host"], []).append(r)
            limit = rank(self.incident_severity)
            out = {}
            for host, docs in per.items():
                counts = severity_counts(docs)
                severe = sum(n for s, n in counts.items() if rank(s) <= limit)
                out[host] = FindingCounts(tuple(counts.items()), severe)
            return out

        return self._memo("counts", compute)

    def rows(self) -> list[HostRow]:
        """One `findings:NAME` row per target that has findings, for the rules: its sample is
        the open count per severity; its version moves only when a count does."""
        return self._memo("rows", self._rows)

    def _rows(self) -> list[HostRow]:
        out = []
        for host, counts in sorted(self._all_counts().items()):
            key = (counts.counts, counts.severe)
            version, last = self._versions.get(host, (0, ()))
            if last != key:
                version += 1
                self._versions[host] = (version, key)
            base = self.infos(host)
            info = HostInfo(
                host,
                base.address if base else host,
                base.tags if base else (),
                base.group if base else None,
                3600.0,
                kind="findings",
                source="findings",
            )
            out.append(HostRow(info, HostState.UP, None, counts, 0.0, None, None, (), version, kind=FINDINGS))
        return out

    # -- merging what a scan or scanner saw --------------------------------------------

    def merge(
        self, host: str, scanner: str, found: Iterable[Finding], judged: Iterable[str] | None = None
    ) -> MergeResult:
        """Fold one scan into the book: new findings open, seen ones are touched, and those of
        the checks this scan `judged` (None: everything this scanner reports here) that it no
        longer sees resolve. One transaction; the scan's diff is kept."""
        now = self.now()
        at = now.isoformat()
        judged_set = None if judged is None else set(judged)
        result = MergeResult()
        seen: set[str] = set()
        with self.store.transaction():
            for f in found:
                obj = f.obj if f.assessed else NOT_ASSESSED
                key = finding_key(host, f.check, obj)
                if key in seen:
                    continue
                seen.add(key)
                self._see(key, host, scanner, f, obj, now, result)
            for key, r in list(self.records.items()):
                if r["host"] != host or r["scanner"] != scanner or key in seen or r["state"] == "resolved":
                    continue
                if judged_set is not None and r["check"] not in judged_set:
                    continue
                self._set(
                    key, {**r, "state": "resolved", "resolved_at": at}, at, "resolved", "no longer seen"
                )
                result.resolved.append(key)
            # The diff between this scan and the one before: what the "changes" view shows.
            self.store.put(
                SCANS,
                f"{host}|{scanner}",
                {"host": host, "scanner": scanner, "at": at, "new": result.added, "fixed": result.resolved},
            )
            self.version += 1
        if result.added or result.resolved or result.updated:
            self._changed()
        return result

    def _see(
        self, key: str, host: str, scanner: str, f: Finding, obj: str, now: datetime, result: MergeResult
    ) -> None:
        at = now.isoformat()
        state = "open" if f.assessed else "not_assessed"
        facts = {
            "severity": f.severity if f.severity in FINDING_SEVERITIES else "info",
            "title": f.title,
            "evidence": f.evidence,
            "why": f.why,
            "fix": f.fix,
        }
        r = self.records.get(key)
        if r is None:
            doc: dict[str, Any] = {
                "id": self._next_id(),
                "host": host,
                "check": f.check,
                "obj": obj,
                "scanner": scanner,
                **facts,
                "state": state,
                "first_seen": at,
                "last_seen": at,
                "resolved_at": None,
                "accepted": None,
                "history": [],
            }
            self._set(key, doc, at, "found", f.title)
            result.added.append(key)
            return
        if r["state"] == "resolved":
            self._set(
                key, {**r, **facts, "state": state, "last_seen": at, "resolved_at": None}, at, "seen again"
            )
            result.added.append(key)
            result.reopened.append(key)
            return
        if r["state"] == "accepted":
            state = "accepted"
        changed = any(r.get(k) != v for k, v in facts.items()) or r["state"] != state
        stale = now - datetime.fromisoformat(r["last_seen"]) >= TOUCH_EVERY
        if changed or stale:
            # Only what a reader of the history cares about is an event: evidence that moves
            # every scan (a count of failed logins) would push "found" and "accepted" out.
            event, text = None, ""
            if r["severity"] != facts["severity"]:
                event, text = "severity", f"{r['severity']} -> {facts['severity']}"
            elif r["title"] != facts["title"]:
                event, text = "changed", facts["title"]
            self._set(key, {**r, **facts, "state": state, "last_seen": at}, at, event, text)
            if changed:
                result.updated.append(key)

    def _set(self, key: str, doc: dict[str, Any], at: str, event: str | None, text: str = "") -> None:
        if event is not None:
            history = [*doc.get("history", []), {"at": at, "event": event, "text": text}][-HISTORY_CAP:]
            doc = {**doc, "history": history}
        self.store.put(TABLE, key, doc)
        self.records[key] = doc
        self.version += 1

    def _next_id(self) -> str:
        """The next id, never one used before: the highest is kept in the store too, since an
        archived finding (findings/archive.py) leaves the records but keeps its id."""
        if self._last_id is None:
            kept = (self.store.get(META, "ids") or {}).get("last", 0)
            self._last_id = max([kept, *(int(r["id"].split("-")[1]) for r in self.records.values())])
        self._last_id += 1
        self.store.put(META, "ids", {"last": self._last_id})
        return f"FND-{self._last_id:06d}"

    # -- the operator's decisions and the clock -----------------------------------------

    def accept(self, ref: str, by: str, reason: str, until: datetime) -> dict[str, Any]:
        """Accept a finding's risk until `until`: ValueError says why not."""
        r = self.get(ref)
        if r is None:
            raise ValueError(f"no finding {ref}")
        if not reason.strip():
            raise ValueError("say why the risk is accepted (--reason)")
        self.check_until(until)
        now = self.now()
        if r["state"] == "resolved":
            raise ValueError(f"{r['id']} is resolved: nothing to accept")
        at = now.isoformat()
        accepted = {"by": by, "reason": reason, "until": until.isoformat(), "at": at}
        key = finding_key(r["host"], r["check"], r["obj"])
        text = f"by {by} until {until.isoformat()}: {reason}"
        with self.store.transaction():
            self._set(key, {**r, "state": "accepted", "accepted": accepted}, at, "accepted", text)
            self.store.append(
                AUDIT,
                {"at": at, "who": by, "action": "accept-risk", "finding": r["id"], "until": accepted["until"]}
                | {"reason": reason, "target": r["host"]},
            )
        self._changed()
        return self.records[key]

    def check_until(self, until: datetime) -> None:
        """ValueError when an acceptance could not end then: in the past, or over a year away
        (a risk is looked at again at least once a year)."""
        now = self.now()
        if until <= now:
            raise ValueError(
                f"the expiry {until.isoformat(timespec='minutes')} has passed; give a future date"
            )
        if until - now > MAX_ACCEPT:
            raise ValueError("an acceptance lasts at most a year (365d): accept it again then")

    def tick(self) -> int:
        """Acceptances that expired reopen; how many."""
        now = self.now()
        due = [
            (k, r)
            for k, r in self.records.items()
            if r["state"] == "accepted"
            and r.get("accepted")
            and datetime.fromisoformat(r["accepted"]["until"]) <= now
        ]
        if not due or self.store.read_only:
            return 0
        at = now.isoformat()
        with self.store.transaction():
            for key, r in due:
                state = "not_assessed" if r["obj"] == NOT_ASSESSED else "open"
                self._set(key, {**r, "state": state}, at, "reopened", "the acceptance expired")
        self._changed()
        return len(due)

    def _changed(self) -> None:
        for cb in self.listeners:
            cb()


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The documented JSON of a finding (`findings list --format json`, `poll`): the issue's
    nine keys, then `accepted` ({by, reason, until} or null). Keys are only ever added."""
    a = doc.get("accepted") if doc["state"] == "accepted" else None
    return {
        "id": doc["id"],
        "host": doc["host"],
        "check": doc["check"],
        "severity": doc["severity"],
        "title": doc["title"],
        "evidence": doc["evidence"],
        "state": doc["state"],
        "first_seen": doc["first_seen"],
        "last_seen": doc["last_seen"],
        "accepted": {"by": a["by"], "reason": a["reason"], "until": a["until"]} if a else None,
    }
