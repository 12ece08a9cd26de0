"""`ccf usage [--since 7d] [--by endpoint|model|day|session] [--json]`: the usage ledger,
read straight from its file (the app need not run)."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from typing import IO, Any

from proxy.ledger.queries import BYS, By, Span, summary, totals
from proxy.ledger.schema import default_path

EXIT_FAILED = 1
EXIT_USAGE = 2
_SINCE_RE = re.compile(r"^(\d{1,4})d$")
COLUMNS = (
    ("requests", "requests"), ("ok", "ok"), ("failovers", "failovers"),
    ("rescued", "rescued"), ("input", "input"), ("output", "output"),
    ("cache_read", "cache read"), ("cache_write", "cache write"),
)  # fmt: skip


def add_usage_command(subparsers: Any) -> None:
    """Add `ccf usage` to the `ccf` command's subparsers."""
    usage = subparsers.add_parser("usage", help="requests, tokens and cost from the usage ledger")
    usage.add_argument("--since", default="7d", help="how far back: 1d (today), 7d, 30d, …")
    usage.add_argument("--by", choices=BYS, default="endpoint", help="how to group the rows")
    usage.add_argument("--json", action="store_true", help="print JSON instead of a table")


def days_of(since: str) -> int | None:
    if since == "today":
        return 1
    match = _SINCE_RE.match(since.strip())
    days = int(match.group(1)) if match else 0
    return days if 1 <= days <= 3650 else None


def run_usage(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    out = out or sys.stdout
    days = days_of(args.since)
    if days is None:
        message = f"ccf usage: --since {args.since!r}: use a number of days, such as 7d"
        print(message, file=sys.stderr)
        return EXIT_USAGE
    path = default_path()
    span = Span.last_days(days)
    by: By = args.by
    try:
        rows = summary(path, by, span)
    except sqlite3.Error as exc:
        print(f"ccf usage: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    report = {"file": str(path), "span": span.to_json(), "by": by, "rows": rows,
              "totals": totals(rows)}  # fmt: skip
    if args.json:
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        out.write(table(report))
    return 0


def money(cost: float | None, unpriced: int) -> str:
    if cost is None:
        return "unknown"
    return f"${cost:,.2f}" + (f" (+{unpriced} unpriced)" if unpriced else "")


def table(report: dict[str, Any]) -> str:
    span = report["span"]
    head = [report["by"], *(label for _, label in COLUMNS), "cost"]
    lines = [head]
    for row in [*report["rows"], {**report["totals"], "key": "total"}]:
        cells = [str(row["key"]), *(f"{row[name]:,}" for name, _ in COLUMNS)]
        lines.append([*cells, money(row["cost"], row["unpriced"])])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [f"Usage {span['first']} to {span['last']} ({report['file']})"]
    for line in lines:
        rest = (cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))
        text.append("  ".join([line[0].ljust(widths[0]), *rest]))
    if not report["rows"]:
        text.append("No requests recorded in this time.")
    return "\n".join(text) + "\n"
