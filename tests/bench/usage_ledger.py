"""The usage ledger at a million rows: file size, write rate, and how fast the Usage page's
queries answer. ``python -m tests.bench.usage_ledger [--rows N] [--out FILE]``.

Rows are written through the ledger's own insert path (`insert_rows`) in batches of 500,
spread over 90 days, ~40 sessions a day, five endpoints and eight models, about one in
eight failed over. Results go to test-artifacts/bench/usage-ledger.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxy.admin.usage_routes import summary_payload
from proxy.core.usage import Tokens
from proxy.ledger.queries import LogFilter, Span, request_log, summary
from proxy.ledger.rows import Row, insert_rows, local_day
from proxy.ledger.schema import open_for_writing

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench" / "usage-ledger.json"
ENDPOINTS = ("anthropic", "openrouter", "deepseek", "glm", "gpt")
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5",
          "anthropic/claude-sonnet-4.5", "deepseek-chat", "glm-4.6", "gpt-5", "gpt-5-mini")  # fmt: skip
BATCH = 500


def fake_row(pick: random.Random, now: float) -> Row:
    wall = now - pick.uniform(0, 90 * 86400)
    endpoint = pick.choices(ENDPOINTS, (80, 8, 5, 4, 3))[0]
    rescued = endpoint != "anthropic"
    status = pick.choices((200, 429, 529, 400), (94, 3, 2, 1))[0]
    trail = f"anthropic=529, {endpoint}={status}" if rescued else f"anthropic={status}"
    return Row(
        ts_ms=int(wall * 1000),
        day=local_day(wall),
        session=f"{pick.getrandbits(128):032x}"[:36]
        if pick.random() < 0.01
        else f"session-{int(wall // 3600) % 97:04d}-{int(wall // 86400)}",
        model="claude-sonnet-4-5-20250929",
        served=pick.choice(MODELS),
        endpoint=endpoint,
        status=status,
        attempts=trail,
        latency_ms=pick.randint(300, 60000),
        ttft_ms=pick.randint(200, 5000),
        tokens=Tokens(
            pick.randint(1, 50000),
            pick.randint(1, 8000),
            pick.randint(0, 150000),
            pick.randint(0, 20000),
        ),
        cost=None if pick.random() < 0.02 else pick.uniform(0.001, 0.5),
        rescued=rescued and status == 200,
        failovers=1 if rescued else 0,
    )


def fill(path: Path, rows: int) -> float:
    """Write `rows` rows; the seconds it took."""
    pick, now = random.Random(17), time.time()
    conn = open_for_writing(path)
    names: dict[str, int] = {}
    started = time.perf_counter()
    for first in range(0, rows, BATCH):
        batch = [fake_row(pick, now) for _ in range(min(BATCH, rows - first))]
        insert_rows(conn, batch, names)
    elapsed = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return elapsed


def timed(work: Callable[[], Any], repeat: int = 7) -> dict[str, float]:
    work()  # warm the page cache, as a second look at the page would
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def size_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 1e6, 1)


def measure(path: Path, rows: int) -> dict[str, Any]:
    seconds = fill(path, rows)
    span30 = Span.last_days(30)
    return {
        "rows": rows,
        "write_rows_per_second": round(rows / seconds),
        "file_mb": size_mb(path),
        "bytes_per_row": round(size_mb(path) * 1e6 / rows),
        "usage_page_summary_30_days": timed(lambda: summary_payload(path, 30)),
        "usage_page_summary_today": timed(lambda: summary_payload(path, 1)),
        "by_session_7_days": timed(lambda: summary(path, "session", Span.last_days(7))),
        "by_session_30_days": timed(lambda: summary(path, "session", span30)),
        "log_first_page": timed(lambda: request_log(path, LogFilter(), 50)),
        "log_filtered_endpoint_status": timed(
            lambda: request_log(path, LogFilter(endpoint="glm", status="5xx"), 50)
        ),
        "log_filtered_session": timed(
            lambda: request_log(path, LogFilter(session="session-0001-0"), 50)
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ARTIFACT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = measure(Path(folder) / "usage.sqlite3", args.rows)
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
