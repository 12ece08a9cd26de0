"""Reading the ledger: summaries, per-day series, the request log and CSV.

Plain functions over a read-only connection, shared by the admin API and `ccf usage`.
Summaries by endpoint, model and day read the `daily` sums; by session and the log read
`requests` through its time index.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from proxy.ledger.schema import connect

By = Literal["endpoint", "model", "day", "session"]
BYS: tuple[By, ...] = ("endpoint", "model", "day", "session")
LOG_LIMIT = 500
SUMS = ("requests", "ok", "failovers", "rescued", "input", "output", "cache_read", "cache_write")


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection, or None when there is no ledger yet."""
    if not path.exists():
        yield None
        return
    with closing(connect(path, read_only=True)) as conn:
        yield conn


@dataclass(frozen=True, slots=True)
class Span:
    """Local days `first`..`last` (inclusive) and the same span in Unix milliseconds."""

    first: str
    last: str
    start_ms: int
    end_ms: int

    @classmethod
    def last_days(cls, days: int, now: float | None = None) -> Span:
        """Today and the `days - 1` days before it."""
        now = time.time() if now is None else now
        today = datetime.fromtimestamp(now).date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, datetime.min.time()).timestamp()
        return cls(first.isoformat(), today.isoformat(), int(start * 1000), int(now * 1000) + 1)

    def to_json(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last}


_SUMMED = (
    "SUM(requests) AS requests, SUM(ok) AS ok, SUM(failovers) AS failovers,"
    " SUM(rescued) AS rescued, SUM(input) AS input, SUM(output) AS output,"
    " SUM(cache_read) AS cache_read, SUM(cache_write) AS cache_write,"
    " TOTAL(cost) AS cost, SUM(unpriced) AS unpriced"
)


def _group(conn: sqlite3.Connection, by: By, span: Span) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    if by == "session":
        return conn.execute(
            f"SELECT n.text AS key, {_SUMMED}, MAX(last_ms) AS last_ms FROM session_daily d"
            " JOIN names n ON n.id = d.session WHERE d.day BETWEEN ? AND ?"
            " GROUP BY d.session ORDER BY last_ms DESC LIMIT 500",
            (span.first, span.last),
        ).fetchall()
    column = {"endpoint": "d.endpoint", "model": "d.model", "day": "d.day"}[by]
    key = "d.day" if by == "day" else "n.text"
    join = "" if by == "day" else f" JOIN names n ON n.id = {column}"
    return conn.execute(
        f"SELECT {key} AS key, {_SUMMED} FROM daily d{join}"
        f" WHERE d.day BETWEEN ? AND ? GROUP BY {column}"
        " ORDER BY requests DESC",
        (span.first, span.last),
    ).fetchall()


def _as_json(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {"key": row["key"] or "none"}
    out.update({name: int(row[name] or 0) for name in SUMS})
    out["unpriced"] = int(row["unpriced"] or 0)
    out["cost"] = cost_or_unknown(float(row["cost"] or 0.0), out["unpriced"], out)
    return out


def cost_or_unknown(cost: float, unpriced: int, sums: dict[str, Any]) -> float | None:
    """The known cost; None ("unknown") when every request that used tokens had no price."""
    priced = sums["requests"] - unpriced
    return None if unpriced and (priced == 0 or cost == 0) else round(cost, 6)


def summary(path: Path, by: By, span: Span) -> list[dict[str, Any]]:
    with reading(path) as conn:
        return [] if conn is None else [_as_json(row) for row in _group(conn, by, span)]


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {name: sum(row[name] for row in rows) for name in (*SUMS, "unpriced")}
    cost = sum(row["cost"] or 0.0 for row in rows)
    out["cost"] = cost_or_unknown(cost, out["unpriced"], out)
    return out


def series(path: Path, span: Span) -> list[dict[str, Any]]:
    """Per day and endpoint: requests and cost, for the charts."""
    with reading(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            "SELECT d.day, n.text, SUM(d.requests), TOTAL(d.cost), SUM(d.unpriced)"
            " FROM daily d JOIN names n ON n.id = d.endpoint"
            " WHERE d.day BETWEEN ? AND ? GROUP BY d.day, d.endpoint ORDER BY d.day",
            (span.first, span.last),
        ).fetchall()
    return [
        {"day": day, "endpoint": name or "none", "requests": n, "cost": round(cost, 6),
         "unpriced": unpriced}
        for day, name, n, cost, unpriced in rows
    ]  # fmt: skip


# ---------------------------------------------------------------- the request log


@dataclass(frozen=True, slots=True)
class LogFilter:
    endpoint: str | None = None
    status: str | None = None  # "200", "4xx", "ok", "error"
    model: str | None = None  # the asked or the served model
    session: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    before_id: int | None = None  # paging: rows older than this id


LOG_COLUMNS = (
    "id", "time", "session", "model", "served", "endpoint", "status", "attempts",
    "latency_ms", "ttft_ms", "input", "output", "cache_read", "cache_write", "cost",
    "rescued", "failovers",
)  # fmt: skip

_LOG_SELECT = (
    "SELECT r.id, r.ts, s.text, m.text, v.text, e.text, r.status, r.attempts, r.latency_ms,"
    " r.ttft_ms, r.input, r.output, r.cache_read, r.cache_write, r.cost, r.rescued,"
    " r.failovers FROM requests r LEFT JOIN names s ON s.id = r.session"
    " LEFT JOIN names m ON m.id = r.model LEFT JOIN names v ON v.id = r.served"
    " LEFT JOIN names e ON e.id = r.endpoint"
)


def _status_clause(status: str) -> tuple[str, list[Any]]:
    text = status.strip().lower()
    if text == "ok":
        return "r.status BETWEEN 200 AND 299", []
    if text == "error":
        return "r.status NOT BETWEEN 200 AND 299", []
    if len(text) == 3 and text.endswith("xx") and text[0].isdigit():
        low = int(text[0]) * 100
        return "r.status BETWEEN ? AND ?", [low, low + 99]
    return "r.status = ?", [int(text)]


def _where(conn: sqlite3.Connection, f: LogFilter) -> tuple[str, list[Any]]:
    """The WHERE clause; a name filter that matches no name makes it match nothing."""
    clauses: list[str] = []
    params: list[Any] = []

    def name_id(text: str) -> int:
        found = conn.execute("SELECT id FROM names WHERE text = ?", (text,)).fetchone()
        return int(found[0]) if found else -1

    if f.endpoint:
        clauses.append("r.endpoint = ?")
        params.append(name_id(f.endpoint))
    if f.model:
        clauses.append("(r.model = ? OR r.served = ?)")
        params += [name_id(f.model)] * 2
    if f.session:
        clauses.append("r.session = ?")
        params.append(name_id(f.session))
    if f.status:
        clause, more = _status_clause(f.status)
        clauses.append(clause)
        params += more
    for clause, value in (("r.ts >= ?", f.start_ms), ("r.ts < ?", f.end_ms),
                          ("r.id < ?", f.before_id)):  # fmt: skip
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _log_row(values: tuple[Any, ...]) -> dict[str, Any]:
    row = dict(zip(LOG_COLUMNS, values, strict=True))
    row["time"] = row["time"] / 1000
    row["rescued"] = bool(row["rescued"])
    return row


def request_log(path: Path, f: LogFilter, limit: int = 100) -> list[dict[str, Any]]:
    """The newest rows matching `f`, newest first."""
    with reading(path) as conn:
        if conn is None:
            return []
        where, params = _where(conn, f)
        query = f"{_LOG_SELECT}{where} ORDER BY r.id DESC LIMIT ?"
        rows = conn.execute(query, [*params, min(limit, LOG_LIMIT)]).fetchall()
    return [_log_row(values) for values in rows]


def csv_text(path: Path, f: LogFilter) -> Iterator[str]:
    """The rows matching `f` as CSV text (header first), in chunks, newest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LOG_COLUMNS)
    with reading(path) as conn:
        if conn is not None:
            where, params = _where(conn, f)
            cursor = conn.execute(f"{_LOG_SELECT}{where} ORDER BY r.id DESC", params)
            while chunk := cursor.fetchmany(1000):
                for values in chunk:
                    row = _log_row(values)
                    row["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(row["time"]))
                    writer.writerow([_csv_cell(row[name]) for name in LOG_COLUMNS])
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    yield out.getvalue()


def _csv_cell(value: object) -> object:
    """Text cells that a spreadsheet would run as a formula get a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value
