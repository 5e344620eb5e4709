"""Watching the card reader for a resident's card: once per insertion, on a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from devices.idcard.errors import NoCard, ReaderError
from kiosk.identity import CardRecord

log = logging.getLogger(__name__)


class WatchedReader(Protocol):
    """What the watcher uses of devices.idcard.reader.CardReader."""

    poll_interval: float

    @property
    def longest_command_s(self) -> float: ...
    def find(self) -> None: ...
    def select(self) -> None: ...
    def read(self) -> CardRecord: ...


class CardWatcher:
    """Polls the reader and calls `on_card` once per insertion of a card.

    A card left on the reader does not fire again; after removal (find answers "no card") the
    next card fires. A card that fails to read is retried on later polls, at most
    `max_attempts` times per insertion. `on_error` gets each distinct error once.
    If the reader goes away while a card lies on it, that card is not reported again after
    the reconnect (no duplicate sessions); `forget()` makes it fire again.
    """

    def __init__(self, reader: WatchedReader, on_card: Callable[[CardRecord], None],
                 on_error: Callable[[ReaderError], None] | None = None, *, max_attempts: int = 3) -> None:
        self._reader = reader
        self._on_card = on_card
        self._on_error = on_error
        self._max_attempts = max_attempts
        self._fired = False
        self._attempts = 0
        self._last_error: tuple[type, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CardWatcher:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="card-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._reader.longest_command_s * 2 + self._reader.poll_interval)
            self._thread = None

    def forget(self) -> None:
        """Forget the card on the reader, so it fires again (the session was wiped)."""
        self._fired = False
        self._attempts = 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self._reader.poll_interval)

    def poll_once(self) -> None:
        try:
            self._reader.find()
        except NoCard:
            self._fired = False
            self._attempts = 0
            self._last_error = None
            return
        except ReaderError as e:
            self._report(e)
            return
        if self._fired or self._attempts >= self._max_attempts:
            return
        try:
            self._reader.select()
            record = self._reader.read()
        except ReaderError as e:
            self._attempts += 1
            self._report(e)
            return
        self._fired = True
        self._last_error = None
        try:
            self._on_card(record)
        except Exception:
            log.exception("on_card callback failed")

    def _report(self, error: ReaderError) -> None:
        key = (type(error), str(error))
        if key == self._last_error:
            return
        self._last_error = key
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:
                log.exception("on_error callback failed")

    def __enter__(self) -> CardWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
