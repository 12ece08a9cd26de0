"""The ledger in one process: batches, the queue bound, retention, migrations, queries."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from proxy.core.config import Config, Usage
from proxy.ledger.prices import bundled_prices
from proxy.ledger.queries import LogFilter, Span, csv_text, request_log, series, summary
from proxy.ledger.rows import Pending
from proxy.ledger.schema import SCHEMA_VERSION, NewerSchemaError, open_for_writing
from proxy.ledger.writer import Ledger

USAGE = b'{"input_tokens": 10, "output_tokens": 5}'


def pending(
    *, endpoint: str | None = "a", status: int = 200, wall: float | None = None,
    session: str = "s1", model: str = "claude-sonnet-4-5", usage: bytes = USAGE,
    steps: tuple[str, ...] = ("a=200",),
) -> Pending:  # fmt: skip
    headers = [("x-claude-code-session-id", session), ("x-api-key", "sk-never-stored")]
    return (wall or time.time(), headers, model, None, endpoint, status, list(steps), 12.5, 3.0,
            usage, "a")  # fmt: skip


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "usage.sqlite3"


@pytest.fixture
def ledger(path: Path) -> Iterator[Ledger]:
    ledger = Ledger(path, Config, bundled_prices(), max_queue=100)
    yield ledger
    ledger.close()


def count(path: Path, table: str = "requests") -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_rows_are_written_in_one_batch_without_keys_or_bodies(ledger: Ledger, path: Path) -> None:
    for _ in range(10):
        ledger.record(pending())
    ledger.flush_now()
    assert count(path) == 10
    assert b"sk-never-stored" not in path.read_bytes()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_full_queue_drops_rows_and_counts_them(ledger: Ledger, path: Path) -> None:
    for _ in range(150):
        ledger.record(pending())
    assert ledger.dropped_full == 50
    assert "faster" in ledger.today().warning
    ledger.flush_now()
    assert count(path) == 100
    assert ledger.today().warning == ""  # written again: the warning goes


def test_the_writer_thread_writes_and_tells_the_tray(path: Path) -> None:
    told: list[int] = []
    ledger = Ledger(path, Config, bundled_prices(), interval=0.01)
    ledger.on_change = lambda: told.append(1)
    ledger.start()
    ledger.record(pending(endpoint="b"))
    deadline = time.monotonic() + 10
    while not told and time.monotonic() < deadline:
        time.sleep(0.01)
    ledger.close()
    assert told
    today = ledger.today()
    assert (today.requests, today.rescued) == (1, 1)
    assert today.cost == pytest.approx((10 * 3 + 5 * 15) / 1e6)


def test_old_rows_are_pruned(path: Path) -> None:
    config = Config(usage=Usage(retention_days=7))
    ledger = Ledger(path, lambda: config, bundled_prices())
    ledger.record(pending(wall=time.time() - 8 * 86400))
    ledger.record(pending())
    ledger.flush_now()
    assert count(path) == 2
    ledger.start()  # the writer prunes when it starts
    ledger.close()
    assert count(path) == 1
    assert count(path, "daily") == 1


def test_a_newer_schema_is_left_alone(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(NewerSchemaError):
        open_for_writing(path)
    ledger = Ledger(path, Config, bundled_prices())
    ledger.record(pending())
    ledger.flush_now()
    assert ledger.dropped_failed == 1
    assert ledger.today().warning


def test_unknown_prices_stay_unknown(ledger: Ledger, path: Path) -> None:
    ledger.record(pending(model="a-model-nobody-prices"))
    ledger.record(pending(model="a-model-nobody-prices", usage=b""))
    ledger.flush_now()
    costs = [row["cost"] for row in request_log(path, LogFilter())]
    assert costs == [0.0, None]
    by_model = summary(path, "model", Span.last_days(1))
    assert by_model[0]["cost"] is None
    assert by_model[0]["unpriced"] == 1


def test_summaries_series_and_filters(ledger: Ledger, path: Path) -> None:
    ledger.record(pending(endpoint="a", session="one"))
    ledger.record(pending(endpoint="b", session="one", steps=("a=529", "b=200")))
    ledger.record(pending(endpoint=None, status=502, session="two", usage=b""))
    ledger.record(pending(endpoint="a", status=429, session="two", usage=b""))
    ledger.flush_now()
    span = Span.last_days(7)
    by_endpoint = {row["key"]: row for row in summary(path, "endpoint", span)}
    assert {k: v["requests"] for k, v in by_endpoint.items()} == {"a": 2, "b": 1, "none": 1}
    assert by_endpoint["b"]["rescued"] == 1
    assert by_endpoint["b"]["failovers"] == 1
    sessions = {row["key"]: row["requests"] for row in summary(path, "session", span)}
    assert sessions == {"one": 2, "two": 2}
    assert sum(row["requests"] for row in series(path, span)) == 4
    assert len(request_log(path, LogFilter(status="5xx"))) == 1
    assert len(request_log(path, LogFilter(status="error"))) == 2
    assert len(request_log(path, LogFilter(endpoint="a", status="429"))) == 1
    assert len(request_log(path, LogFilter(session="one"))) == 2
    assert request_log(path, LogFilter(endpoint="nobody")) == []
    first = request_log(path, LogFilter(), limit=2)
    older = request_log(path, LogFilter(before_id=first[-1]["id"]), limit=2)
    assert [r["id"] for r in first + older] == [4, 3, 2, 1]


def test_csv_has_every_row_and_no_formulas(ledger: Ledger, path: Path) -> None:
    ledger.record(pending(session="=HYPERLINK(1)"))
    ledger.record(pending())
    ledger.flush_now()
    text = "".join(csv_text(path, LogFilter()))
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,time,session,model")
    assert len(lines) == 3
    assert "'=HYPERLINK(1)" in text


def test_queries_on_a_missing_file_are_empty(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    assert summary(missing, "day", Span.last_days(30)) == []
    assert request_log(missing, LogFilter()) == []
