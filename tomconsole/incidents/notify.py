"""Notifications, at least once: the event is written to the store's outbox in the same
transaction as the incident change, and removed only after every target took it.

A worker retries with backoff and, after `retries`, moves the event to a dead-letter
file (JSON lines, fsynced) in the data directory. Nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.collectors.notify import post_json, run_command
from tomconsole.config import Notifications, Webhook
from tomconsole.incidents.book import OUTBOX
from tomconsole.store import KEY, Store, StoreError

log = logging.getLogger(__name__)


def slack_payload(event: dict[str, Any]) -> dict[str, Any]:
    inc = event["incident"]
    text = f"[{inc['severity'].upper()}] {event['event']}: {inc['title']} ({inc['id']})"
    if event.get("who") and event["who"] != "tomconsole":
        text += f" by {event['who']}"
    return {"text": text}


def _webhook_sender(hook: Webhook, *, slack: bool) -> Callable[[dict[str, Any]], Awaitable[str | None]]:
    async def send(event: dict[str, Any]) -> str | None:
        try:
            url = hook.resolve()
        except (OSError, ValueError) as exc:
            return str(exc)
        return await post_json(url, slack_payload(event) if slack else event)

    return send


@dataclass
class Notifier:
    store: Store
    settings: Notifications
    data_dir: Path
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    base_delay: float = 2.0
    _failing: bool = field(default=False, init=False)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhooks or self.settings.command)

    def _targets(self) -> list[tuple[str, Callable[[dict[str, Any]], Awaitable[str | None]]]]:
        out: list[tuple[str, Callable[[dict[str, Any]], Awaitable[str | None]]]] = []
        for hook in self.settings.webhooks:
            out.append((hook.name, _webhook_sender(hook, slack=hook.format == "slack")))
        if self.settings.command:
            argv = list(self.settings.command)
            out.append((" ".join(argv), lambda e: run_command(argv, e)))
        return out

    async def deliver_due(self) -> int:
        """One pass over the outbox; returns how many events are done (delivered or dead)."""
        done = 0
        now = self.now()
        targets = self._targets()
        for doc in sorted(self.store.all(OUTBOX), key=lambda d: d["queued_at"]):
            if doc.get("next_at") and datetime.fromisoformat(doc["next_at"]) > now:
                continue
            delivered = set(doc.get("delivered", []))
            errors = []
            for name, send in targets:
                if name in delivered:
                    continue
                err = await send(doc["event"])
                if err is None:
                    delivered.add(name)
                else:
                    errors.append(f"{name}: {err}")
            if not errors:
                self.store.delete(OUTBOX, doc[KEY])
                done += 1
                continue
            attempts = int(doc.get("attempts", 0)) + 1
            if attempts > self.settings.retries:
                self._dead_letter(doc, errors)
                self.store.delete(OUTBOX, doc[KEY])
                done += 1
                continue
            delay = self.base_delay * 2 ** (attempts - 1)
            self.store.put(
                OUTBOX,
                doc[KEY],
                {
                    **doc,
                    "attempts": attempts,
                    "delivered": sorted(delivered),
                    "last_error": "; ".join(errors),
                    "next_at": (now + timedelta(seconds=delay)).isoformat(),
                },
            )
        return done

    def _dead_letter(self, doc: dict[str, Any], errors: list[str]) -> None:
        path = self.data_dir / "notifications.dead.jsonl"
        line = json.dumps({**doc, "dead_at": self.now().isoformat(), "errors": errors}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    async def run(self, every: float = 1.0, on_error: Callable[[str], None] | None = None) -> None:
        """Deliver until cancelled, only while this process holds the store (a read-only console
        leaves notifications to the one that writes). A failing pass is logged and reported
        through `on_error`, and the next pass tries again; it never ends the loop silently."""
        while True:
            await self.pass_once(on_error)
            await asyncio.sleep(every)

    async def pass_once(self, on_error: Callable[[str], None] | None = None) -> int:
        """One delivery pass if this process may send; how many events are done."""
        if not self.enabled or self.store.read_only:
            return 0
        try:
            done = await self.deliver_due()
        except StoreError:
            return 0  # the store turned read-only and says so itself; nothing more to send from here
        except Exception as exc:
            log.exception("notification pass failed")
            if on_error is not None and not self._failing:
                on_error(f"notifications failing: {type(exc).__name__}: {exc}")
            self._failing = True
            return 0
        self._failing = False
        return done
