"""Notifications against a real local HTTP server that fails first: retried, delivered at
least once, and dead-lettered when the target never recovers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tomconsole.config import Notifications
from tomconsole.incidents.book import IncidentBook, Policy
from tomconsole.incidents.notify import OUTBOX, Notifier
from tomconsole.store import Store


class Target:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls = 0
        self.received: list[dict[str, Any]] = []


@pytest.fixture
def target() -> Iterator[tuple[Target, str]]:
    state = Target(fail_first=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.calls += 1
            if state.calls <= state.fail_first:
                self.send_response(503)
            else:
                state.received.append(json.loads(body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _book_with_event(tmp_path: Path) -> tuple[Store, IncidentBook]:
    store = Store(tmp_path)
    book = IncidentBook(store, Policy(notify=("trigger", "ack", "escalate", "resolve")))
    inc = book.open_manual("db replication lag", "ana", host="db-01", severity="critical")
    book.acknowledge(inc.id, "ana")  # open_manual is not a notify event; ack is
    return store, book


async def _drain(notifier: Notifier, store: Store, rounds: int = 50) -> None:
    for _ in range(rounds):
        await notifier.deliver_due()
        if not store.all(OUTBOX):
            return
        await asyncio.sleep(0.05)


async def test_webhook_retries_until_delivered(tmp_path: Path, target: tuple[Target, str]) -> None:
    state, url = target
    store, _ = _book_with_event(tmp_path)
    assert len(store.all(OUTBOX)) == 1  # queued in the same transaction as the ack
    notifier = Notifier(
        store, Notifications.model_validate({"webhooks": [{"url": url}]}), tmp_path, base_delay=0.01
    )
    await _drain(notifier, store)
    assert store.all(OUTBOX) == []
    assert state.calls == 3
    (event,) = state.received
    assert event["event"] == "ack" and event["who"] == "ana"
    assert event["incident"]["title"] == "db replication lag"


async def test_slack_format(tmp_path: Path, target: tuple[Target, str]) -> None:
    state, url = target
    state.fail_first = 0
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"webhooks": [{"url": url, "format": "slack"}]})
    await _drain(Notifier(store, settings, tmp_path), store)
    assert state.received[0]["text"].startswith("[CRITICAL] ack: db replication lag")


async def test_dead_letter_after_retries(tmp_path: Path, target: tuple[Target, str]) -> None:
    state, url = target
    state.fail_first = 10**6
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"webhooks": [{"url": url}], "retries": 2})
    await _drain(Notifier(store, settings, tmp_path, base_delay=0.01), store)
    assert store.all(OUTBOX) == []
    assert state.calls == 3
    dead = [json.loads(x) for x in (tmp_path / "notifications.dead.jsonl").read_text().splitlines()]
    assert dead[0]["event"]["event"] == "ack" and "HTTP 503" in dead[0]["errors"][0]


async def test_command_hook_gets_the_event_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "hook.out"
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"command": ["sh", "-c", f"cat > {out}"]})
    await _drain(Notifier(store, settings, tmp_path), store)
    assert json.loads(out.read_text())["event"] == "ack"


async def test_webhook_url_from_the_environment(
    tmp_path: Path, target: tuple[Target, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = target
    state.fail_first = 0
    monkeypatch.setenv("TOMCONSOLE_TEST_HOOK", url)
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"webhooks": [{"url_env": "TOMCONSOLE_TEST_HOOK"}]})
    await _drain(Notifier(store, settings, tmp_path), store)
    assert state.received and state.received[0]["event"] == "ack"


async def test_only_the_process_holding_the_store_notifies(
    tmp_path: Path, target: tuple[Target, str]
) -> None:
    state, url = target
    state.fail_first = 0
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"webhooks": [{"url": url}]})
    reader = Store(tmp_path)  # a second console: read-only, sees the same outbox
    assert reader.read_only and reader.all(OUTBOX)
    assert await Notifier(reader, settings, tmp_path).pass_once() == 0
    assert state.calls == 0
    reader.close()
    assert await Notifier(store, settings, tmp_path).pass_once() == 1
    assert state.calls == 1


async def test_a_failing_pass_is_reported_once_and_the_next_pass_runs(tmp_path: Path) -> None:
    store, _ = _book_with_event(tmp_path)
    settings = Notifications.model_validate({"webhooks": [{"url_file": str(tmp_path / "url")}]})
    notifier = Notifier(store, settings, tmp_path)
    reported: list[str] = []
    original = notifier.deliver_due

    async def broken() -> int:
        raise RuntimeError("bug in a sender")

    notifier.deliver_due = broken  # type: ignore[method-assign]
    for _ in range(3):
        assert await notifier.pass_once(reported.append) == 0
    assert reported == ["notifications failing: RuntimeError: bug in a sender"]
    notifier.deliver_due = original  # type: ignore[method-assign]
    (tmp_path / "url").write_text("http://127.0.0.1:9/unused")
    await notifier.pass_once(reported.append)  # runs again: the loop did not die with the bug
    assert store.all(OUTBOX)[0]["attempts"] == 1
