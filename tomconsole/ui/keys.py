"""Every key goes where the screen says it goes at the moment it is handled, in arrival order.

Textual hands each key to the focused widget's message queue and looks bindings up when the
key has bubbled back to the app; a focus change (`widget.focus()`) and a pushed screen take
effect later still. Keys that arrive together (a paste, tmux send-keys, a laggy SSH link)
were therefore all routed before the first one took effect: `/` then `queue` quit the
console instead of filtering for "queue". Here the app routes raw keys itself, one at a
time: bindings run at once (our actions open inputs and screens synchronously), text goes
straight into a focused Input, and while a pushed screen is still composing, or an Enter or
Tab in an input has not yet moved the focus, later keys wait in a backlog. Keys behind a
`q`, and the rest of a burst typed for a dialog that was refused (`refuse_burst`), are
dropped rather than handed to the table.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from textual import events
from textual._dispatch_key import dispatch_key
from textual.app import App
from textual.command import CommandPalette
from textual.widgets import Input, OptionList

#: How long keys wait for an Enter or Tab in an input to move the focus before going on anyway.
HOLD_S = 2.0
#: Keys closer together than this belong to one burst (a paste, a laggy link, typing ahead).
BURST_GAP_S = 0.3
_MOVES_FOCUS = ("enter", "tab", "shift+tab")
#: After the last key typed into the command palette, how long its search gets to start.
PALETTE_SETTLE_S = 0.15


class FieldInput(Input):
    """An Input whose "typing replaces what is there" happens in key order. Textual's own
    select_on_focus selects the text when the Focus event is handled, which in a burst is
    after the first keys were typed: `/state` became `tate` (the `s` selected, then replaced
    by the `t`). Here KeyGate selects the text just before the first key typed into the field
    since the focus came to it, when `replace_on_type` is set."""

    def __init__(self, *args: Any, replace_on_type: bool = True, **kw: Any) -> None:
        super().__init__(*args, select_on_focus=False, **kw)
        self.replace_on_type = replace_on_type


class KeyGate(App[Any]):
    """An App whose raw key and paste events are routed in order by `route`."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._backlog: deque[events.Key | events.Paste] = deque()
        self._hold: tuple[object, object, float] | None = None
        self._drain_armed = False
        self._typing_in: Input | None = None  # the field the last typed key went into
        self._quitting = False
        self._drop_until = 0.0  # keys that arrive before this are dropped (see refuse_burst)
        self._typed_at = 0.0  # when the last key went into an input (the palette's search follows it)
        self._held_enter_since: float | None = None

    @property
    def quitting(self) -> bool:
        return self._quitting

    @property
    def taking_keys(self) -> bool:
        """False while the rest of a refused burst is being dropped (see refuse_burst)."""
        return not self._quitting and time.monotonic() >= self._drop_until

    async def action_quit(self) -> None:
        """Quit, and drop the keys that came with the `q`: an Enter behind it must not open a
        screen while the app is taking its screens down."""
        self._quitting = True
        self._backlog.clear()
        await super().action_quit()

    def refuse_burst(self) -> None:
        """An action that would have opened an input was refused: the keys typed for that
        input (a reason typed ahead, Enter) must not reach the table instead, where `q`
        would quit and `t` change the theme. Drop what waits, and every key that follows
        within BURST_GAP_S of the last one dropped: the rest of the burst, not the operator's
        next keys after reading why."""
        self._backlog.clear()
        self._drop_until = time.monotonic() + BURST_GAP_S

    async def _on_key(self, event: events.Key) -> None:
        """A key that bubbled back up after `_route` forwarded it found no binding then. Looking
        bindings up again now would run them against whatever has focus by now (a dialog closed
        meanwhile: `a` typed into a picker acknowledged the incident behind it). Textual calls
        the handler of every class in the MRO; prevent_default keeps App's own from running."""
        event.prevent_default()
        await dispatch_key(self, event)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            now = time.monotonic()
            if self._quitting or now < self._drop_until:
                self._drop_until = now + BURST_GAP_S  # the burst goes on
                return  # typed for an input that never opened, or behind a quit
            self._backlog.append(event)
            await self._drain()
            return
        await super().on_event(event)

    def _palette_searching(self) -> bool:
        """Enter in ctrl+p picks from the list of the text typed so far: while that list is
        still being searched (a burst: `ctrl+p windows Enter`), Enter waits, up to HOLD_S."""
        head = self._backlog[0] if self._backlog else None
        if not (
            isinstance(self.screen, CommandPalette) and isinstance(head, events.Key) and head.key == "enter"
        ):
            self._held_enter_since = None
            return False
        now = time.monotonic()
        if self._held_enter_since is None:
            self._held_enter_since = now
        if now - self._held_enter_since > HOLD_S:
            return False
        searching = any(w.is_running for w in self.screen.workers)
        return searching or now - self._typed_at < PALETTE_SETTLE_S

    def _blocked(self) -> bool:
        if not self._screen_stack:
            return True  # starting or stopping: keys wait (and go with the app if it stops)
        if self._palette_searching():
            return True
        if not self.screen.is_mounted:
            return True  # a pushed screen has not composed and focused its first widget yet
        if self._hold is not None:
            screen, focused, since = self._hold
            if self.screen is screen and self.screen.focused is focused and time.monotonic() - since < HOLD_S:
                return True
            self._hold = None
        return False

    async def _drain(self) -> None:
        while self._backlog and not self._blocked():
            await self._route(self._backlog.popleft())
            if self._quitting or time.monotonic() < self._drop_until:
                self._backlog.clear()
                return
        if self._backlog and not self._drain_armed:  # one retry timer at a time, however many keys wait
            self._drain_armed = True
            self.set_timer(0.02, self._retry_drain)

    async def _retry_drain(self) -> None:
        self._drain_armed = False
        await self._drain()

    async def _route(self, event: events.Key | events.Paste) -> None:
        focused = self.focused
        if isinstance(event, events.Paste):
            self._typing_in = focused if isinstance(focused, Input) else None
            if isinstance(focused, Input) and event.text:
                _type_into(focused, event.text.split("\n")[0])
            else:
                await super().on_event(event)
            return
        typed = isinstance(focused, Input) and event.is_printable and bool(event.character)
        if not isinstance(focused, Input) or event.key in _MOVES_FOCUS:
            self._typing_in = None
        elif focused is not self._typing_in:  # the first key since the focus came here
            self._typing_in = focused
            if typed and getattr(focused, "replace_on_type", False) and focused.value:
                focused.select_all()  # an arrow key first means "edit": nothing is selected
        if typed and isinstance(focused, Input) and event.character:
            _type_into(focused, event.character)
            self._typed_at = time.monotonic()
            return
        if isinstance(focused, Input | OptionList) and event.key in _MOVES_FOCUS:
            self._hold = (self.screen, focused, time.monotonic())
        # Private in Textual 8, but it is exactly "run the binding for this key now": priority
        # bindings first, then from the focused widget up, as Textual itself would.
        if await self._check_bindings(event.key, priority=True) or await self._check_bindings(event.key):
            return
        (focused or self.screen)._forward_event(event)  # no binding: the widget's own key handler


def _type_into(box: Input, text: str) -> None:
    selection = box.selection
    if selection.is_empty:
        box.insert_text_at_cursor(text)
    else:
        box.replace(text, *selection)
