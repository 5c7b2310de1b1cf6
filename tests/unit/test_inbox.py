"""The console's inbox: answered only once durable, exactly once across a crash, and junk in it
never stops the console."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from tomconsole.incidents.actions import answer
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.inbox import REQUESTS, inbox_dir, process, submit
from tomconsole.incidents.windows import WindowBook
from tomconsole.store import STORE_FILE, Store


def _console(tmp: Path, background: bool = False) -> tuple[Store, IncidentBook]:
    store = Store(tmp, role="console", background=background)
    return store, IncidentBook(store)


async def test_answer_is_written_only_after_the_change_is_durable(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        IncidentBook(s).open_manual("VPN drops", "ana")
    store, book = _console(tmp_path, background=True)
    request = submit(tmp_path, {"action": "note", "id": "INC-000001", "who": "ben", "text": "on it"})
    seen_at_durable: list[bool] = []

    async def durable() -> None:
        seen_at_durable.append(request.with_suffix(".done").exists())
        await store.durable()
        on_disk = orjson.loads((tmp_path / STORE_FILE).read_bytes())
        assert any(d.get("notes") for d in on_disk["incidents"].values())  # the note is on disk now

    assert await process(store, lambda r: answer(book, WindowBook(store), r), durable) == 1
    assert seen_at_durable == [False]
    assert json.loads(request.with_suffix(".done").read_text())["ok"] is True
    store.close()


async def test_junk_in_the_inbox_is_answered_not_fatal(tmp_path: Path) -> None:
    store, book = _console(tmp_path)
    inbox_dir(tmp_path).mkdir()
    for name, body in (
        ("1-junk.json", "[1]"),
        ("2-junk.json", "{not json"),
        ("3-junk.json", '{"action": 7}'),
    ):
        (inbox_dir(tmp_path) / name).write_text(body)

    async def durable() -> None:
        return None

    assert await process(store, lambda r: answer(book, WindowBook(store), r), durable) == 3
    answers = [json.loads((inbox_dir(tmp_path) / f"{n}-junk.done").read_text()) for n in (1, 2, 3)]
    assert [a["ok"] for a in answers] == [False, False, False]
    assert answers[0]["error"] == "1-junk.claimed is not a request tomconsole wrote"
    assert answers[2]["error"] == "unknown action 7"
    assert await process(store, lambda r: answer(book, WindowBook(store), r), durable) == 0
    store.close()


async def test_a_request_claimed_by_a_console_that_died_is_not_applied_twice(tmp_path: Path) -> None:
    store, book = _console(tmp_path)
    inc = book.open_manual("VPN drops", "ana")
    request = submit(tmp_path, {"action": "note", "id": inc.id, "who": "ben", "text": "on it"})
    rid, body = request.stem, request.read_text()
    calls: list[dict[str, object]] = []

    def apply(r: dict[str, object]) -> dict[str, object]:
        calls.append(r)
        return answer(book, WindowBook(store), r)  # type: ignore[arg-type]

    async def durable() -> None:
        return None

    await process(store, apply, durable)
    assert store.get(REQUESTS, rid) is not None and len(book.incidents[inc.id].notes) == 1
    # The console died after its write and before it could answer: the claim is still there.
    request.with_suffix(".done").unlink()
    request.with_suffix(".claimed").write_text(body)
    store.close()
    store, book = _console(tmp_path)
    assert await process(store, apply, durable) == 1
    assert len(calls) == 1 and len(book.incidents[inc.id].notes) == 1
    assert json.loads(request.with_suffix(".done").read_text())["ok"] is True
    store.close()
