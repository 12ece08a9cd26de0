"""Admin API reads of the usage ledger, and the chart library the Usage page loads.

GET /_ccf/api/usage/summary?days=1|7|30      totals; by endpoint, model and day; the series
GET /_ccf/api/usage/sessions?days=N          by Claude Code session
GET /_ccf/api/usage/requests?…               the request log, newest first, with filters
GET /_ccf/api/usage/requests.csv?…           the same rows as CSV
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from proxy.core.errors import ApiError
from proxy.ledger.install import LEDGER
from proxy.ledger.queries import LogFilter, Span, csv_text, request_log, series, summary, totals
from proxy.ledger.schema import default_path
from proxy.ledger.writer import Ledger
from proxy.tasks import off_loop

SPANS = (1, 7, 30, 90)
VENDOR_FILES = {
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
    "uPlot.LICENSE": "text/plain",
}


def _ledger(request: web.Request) -> Ledger | None:
    return request.app.get(LEDGER)


def _path(request: web.Request) -> Path:
    ledger = _ledger(request)
    return ledger.path if ledger is not None else default_path()


def _int(request: web.Request, name: str, default: int | None = None) -> int | None:
    text = request.query.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number", name) from None


def _days(request: web.Request) -> int:
    days = _int(request, "days", 1) or 1
    if days not in SPANS:
        raise ApiError(400, f"days must be one of {', '.join(map(str, SPANS))}", "days")
    return days


def _status(ledger: Ledger | None) -> dict[str, Any]:
    if ledger is None:
        return {"recording": False, "warning": "The usage ledger is not running.", "dropped": 0}
    today = ledger.today()
    return {
        "recording": not ledger.warning,
        "warning": today.warning,
        "dropped": ledger.dropped,
        "file": str(ledger.path),
        "prices_as_of": ledger.prices.as_of,
    }


def summary_payload(path: Path, days: int) -> dict[str, Any]:
    span = Span.last_days(days)
    by_endpoint = summary(path, "endpoint", span)
    return {
        "span": span.to_json(),
        "totals": totals(by_endpoint),
        "by_endpoint": by_endpoint,
        "by_model": summary(path, "model", span),
        "by_day": summary(path, "day", span),
        "series": series(path, Span.last_days(max(days, 7))),  # a chart needs a few days
    }


def empty_summary(days: int, problem: str) -> dict[str, Any]:
    return {
        "span": Span.last_days(days).to_json(),
        "totals": totals([]),
        **{name: [] for name in ("by_endpoint", "by_model", "by_day", "series")},
        "problem": problem,
    }


async def get_summary(request: web.Request) -> web.Response:
    days = _days(request)
    try:
        payload = await off_loop(summary_payload, _path(request), days)
    except sqlite3.Error as exc:
        payload = empty_summary(days, f"The usage ledger cannot be read: {exc}")
    return web.json_response({**payload, **_status(_ledger(request))})


async def get_sessions(request: web.Request) -> web.Response:
    span = Span.last_days(_days(request))
    rows = await reading(summary, _path(request), "session", span)
    return web.json_response({"span": span.to_json(), "items": rows})


async def reading(func: Callable[..., list[dict[str, Any]]], *args: Any) -> list[dict[str, Any]]:
    try:
        rows: list[dict[str, Any]] = await off_loop(func, *args)
    except sqlite3.Error as exc:
        raise ApiError(503, f"The usage ledger cannot be read: {exc}") from None
    return rows


def log_filter(request: web.Request) -> LogFilter:
    q = request.query
    status = q.get("status") or None
    if status and not (status.isdigit() or status.lower() in ("ok", "error", *_CLASSES)):
        raise ApiError(400, "status must be a code (429), a class (5xx), ok or error", "status")
    since, until = _int(request, "since"), _int(request, "until")  # Unix seconds
    return LogFilter(
        endpoint=q.get("endpoint") or None,
        status=status,
        model=q.get("model") or None,
        session=q.get("session") or None,
        start_ms=None if since is None else since * 1000,
        end_ms=None if until is None else until * 1000,
        before_id=_int(request, "before"),
    )


_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


async def get_requests(request: web.Request) -> web.Response:
    limit = max(1, min(_int(request, "limit", 50) or 50, 500))
    rows = await reading(request_log, _path(request), log_filter(request), limit)
    more = len(rows) == limit
    return web.json_response({"items": rows, "next_before": rows[-1]["id"] if more else None})


async def get_requests_csv(request: web.Request) -> web.StreamResponse:
    chunks = csv_text(_path(request), log_filter(request))  # read off the loop, a chunk a time
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="ccf-usage.csv"',
        }
    )
    await response.prepare(request)
    while (chunk := await off_loop(next, chunks, None)) is not None:
        await response.write(chunk.encode())
    await response.write_eof()
    return response


@functools.cache
def _vendor(name: str) -> bytes:
    return resources.files("ui").joinpath("static", "vendor", name).read_bytes()


async def vendor_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in VENDOR_FILES:
        raise web.HTTPNotFound(text="not found")
    body = await off_loop(_vendor, name)
    return web.Response(body=body, content_type=VENDOR_FILES[name], charset="utf-8")


def usage_routes() -> list[web.RouteDef]:
    return [
        web.get("/_ccf/api/usage/summary", get_summary),
        web.get("/_ccf/api/usage/sessions", get_sessions),
        web.get("/_ccf/api/usage/requests", get_requests),
        web.get("/_ccf/api/usage/requests.csv", get_requests_csv),
        web.get("/_ccf/vendor/{name}", vendor_file),
    ]
