"""The ledger's one writer: a bounded in-memory queue drained in batches by a thread.

The event loop only appends a tuple to a deque (`record`); nothing on the request path waits
for the disk. The thread writes what waits every `interval` seconds in one transaction. A
full queue or a database that cannot be written (locked, read-only, disk full) drops rows
with a counter and a warning; a corrupt file is moved aside and a new one started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from proxy.core.config import Config
from proxy.core.usage import PriceTable, UsageToday
from proxy.ledger.rows import Pending, Row, insert_rows, local_day, prune, to_rows, with_tx
from proxy.ledger.schema import move_aside, open_for_writing

log = logging.getLogger("ccf.usage")
MAX_QUEUE = 20_000  # rows waiting for the writer; more are dropped (and counted)
INTERVAL = 0.5  # seconds between batches
PRUNE_EVERY = 3600.0  # seconds between retention sweeps
NOTIFY_EVERY = 2.0  # at most this often the tray hears that today's figures changed

_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_REASONS = {
    sqlite3.SQLITE_BUSY: "the database is locked by another program",
    sqlite3.SQLITE_LOCKED: "the database is locked by another program",
    sqlite3.SQLITE_READONLY: "the database is read-only",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_CANTOPEN: "the database cannot be opened",
    sqlite3.SQLITE_PERM: "the database cannot be written (permissions)",
    sqlite3.SQLITE_IOERR: "the database cannot be written (I/O error)",
}


def reason_of(exc: BaseException, path: Path) -> str:
    if read_only(path):  # SQLite often says "cannot open" or "I/O error" for it
        return _REASONS[sqlite3.SQLITE_READONLY]
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        return _REASONS.get(code, f"the database failed ({exc})")
    return f"the database cannot be written ({exc})"


def read_only(path: Path) -> bool:
    folder_writable = os.access(path.parent, os.W_OK) if path.parent.exists() else True
    return not folder_writable or (path.exists() and not os.access(path, os.W_OK))


def is_corrupt(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return isinstance(exc, sqlite3.DatabaseError) and code in _CORRUPT


class Ledger:
    """Records requests into the SQLite file at `path`; see the module docstring."""

    def __init__(
        self,
        path: Path,
        config: Callable[[], Config],
        prices: PriceTable,
        *,
        max_queue: int = MAX_QUEUE,
        interval: float = INTERVAL,
    ) -> None:
        self.path = path
        self.prices = prices
        self._config = config
        self._queue: deque[Pending] = deque()
        self._max_queue = max_queue
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ccf-usage", daemon=True)
        self._conn: sqlite3.Connection | None = None
        self._names: dict[str, int] = {}
        self._pruned_at = 0.0
        self._notified_at = 0.0
        self._unnotified = False
        self.on_change: Callable[[], None] | None = None
        self.written = 0
        self.dropped_full = 0  # counted on the event loop only
        self.dropped_failed = 0  # counted in the writer thread only
        self.warning = ""
        self._today = UsageToday()
        self._today_day = ""

    # ------------------------------------------------------------ the request path

    def record(self, pending: Pending) -> None:
        """Queue one request's row; drop it (counted) when the queue is full."""
        if len(self._queue) >= self._max_queue or self._stop.is_set():
            self.dropped_full += 1
            if self.dropped_full == 1 or self.dropped_full % 1000 == 0:
                self._warn("requests come faster than the disk takes them")
            return
        self._queue.append(pending)

    # ------------------------------------------------------------ what others read

    @property
    def dropped(self) -> int:
        return self.dropped_full + self.dropped_failed

    def today(self) -> UsageToday:
        today = self._today
        if self._today_day != local_day(time.time()):
            today = UsageToday()
        warning = self.warning
        if warning:
            warning = f"{warning}; {self.dropped} requests not recorded"
        return UsageToday(today.requests, today.cost, today.unpriced, today.rescued, warning)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write what waits, then stop the thread and close the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def flush_now(self) -> None:
        """Write what waits, on the calling thread (tests and the writer itself)."""
        batch: list[Pending] = []
        while self._queue:
            batch.append(self._queue.popleft())
        if batch:
            self._write(batch)

    # ------------------------------------------------------------ the writer thread

    def _run(self) -> None:
        try:
            self._open_and_prune()
            while not self._stop.wait(self._interval):
                self.flush_now()
                self._maybe_prune()
                self._maybe_notify()
            self.flush_now()
        except Exception:
            log.exception("the usage ledger's writer stopped")
        finally:
            self._close_connection()

    def _open_and_prune(self) -> None:
        try:
            self._prune(self._connection())
        except Exception as exc:
            self._handle_failure(exc, [])

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._names = {}
            self._conn = open_for_writing(self.path)
            self._seed_today(self._conn)
        return self._conn

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._names = {}
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _write(self, batch: list[Pending], retry: bool = True) -> None:
        config = self._config()
        rows = to_rows(batch, config, self.prices)
        try:
            conn = self._connection()
            insert_rows(conn, rows, self._names)
        except Exception as exc:
            self._close_connection()
            if retry and is_corrupt(exc):
                self._replace_corrupt()
                self._write(batch, retry=False)
                return
            self._handle_failure(exc, rows)
            return
        self.written += len(rows)
        self._add_today(rows)
        if self.warning:
            log.info("usage ledger: recording again (%s)", self.path)
            self.warning = ""
            self._unnotified = True

    def _replace_corrupt(self) -> None:
        try:
            aside = move_aside(self.path)
        except OSError as exc:
            log.error("usage ledger: %s is corrupt and cannot be moved aside: %s", self.path, exc)
            return
        log.warning("usage ledger: %s was corrupt; moved it to %s, starting a new one",
                    self.path, aside)  # fmt: skip

    def _handle_failure(self, exc: BaseException, rows: Sequence[Row]) -> None:
        self.dropped_failed += len(rows)
        if is_corrupt(exc):
            self._replace_corrupt()
        self._warn(reason_of(exc, self.path))

    def _warn(self, warning: str) -> None:
        if warning != self.warning:
            log.warning("usage ledger: requests are not recorded: %s (%s)", warning, self.path)
            self.warning = warning
            self._unnotified = True

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._pruned_at < PRUNE_EVERY or self._conn is None:
            return
        try:
            self._prune(self._conn)
        except Exception as exc:
            self._close_connection()
            self._handle_failure(exc, [])

    def _prune(self, conn: sqlite3.Connection) -> None:
        self._pruned_at = time.monotonic()
        days = self._config().usage.retention_days
        cutoff = time.time() - days * 86400
        with_tx(conn, lambda: prune(conn, cutoff))

    def _maybe_notify(self) -> None:
        now = time.monotonic()
        if not self._unnotified or now - self._notified_at < NOTIFY_EVERY:
            return
        self._unnotified = False
        self._notified_at = now
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:
                log.debug("usage ledger: nobody to tell", exc_info=True)

    # ------------------------------------------------------------ today's figures

    def _seed_today(self, conn: sqlite3.Connection) -> None:
        day = local_day(time.time())
        requests, cost, unpriced, rescued = conn.execute(
            "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(cost), 0), "
            "COALESCE(SUM(unpriced), 0), COALESCE(SUM(rescued), 0) FROM daily WHERE day = ?",
            (day,),
        ).fetchone()
        self._today, self._today_day = UsageToday(requests, cost, unpriced, rescued), day

    def _add_today(self, rows: Sequence[Row]) -> None:
        day = local_day(time.time())
        if day != self._today_day:
            self._today, self._today_day = UsageToday(), day
        mine = [row for row in rows if row.day == day]
        if not mine:
            return
        t = self._today
        self._today = UsageToday(
            requests=t.requests + len(mine),
            cost=t.cost + sum(row.cost or 0.0 for row in mine),
            unpriced=t.unpriced + sum(row.cost is None for row in mine),
            rescued=t.rescued + sum(row.rescued for row in mine),
        )
        self._unnotified = True
