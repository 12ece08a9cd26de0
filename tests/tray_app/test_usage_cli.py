"""`ccf usage`: reading the ledger's file from the command line."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import pytest

from proxy.core.config import Config
from proxy.ledger.prices import bundled_prices
from proxy.ledger.writer import Ledger
from tray_app.usage_cli import days_of, run_usage


@pytest.fixture
def ledger_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "claude-code-fallback" / "usage.sqlite3"


def args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"since": "7d", "by": "endpoint", "json": False, **given})


def test_since_takes_days() -> None:
    assert [days_of(s) for s in ("1d", "7d", "today", "30d")] == [1, 7, 1, 30]
    assert [days_of(s) for s in ("0d", "7", "7h", "")] == [None] * 4


def test_a_table_and_json_of_what_was_recorded(ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    ledger = Ledger(ledger_path, Config, bundled_prices())
    usage = b'{"input_tokens": 1000, "output_tokens": 100}'
    for endpoint in ("a", "a", "b"):
        ledger.record((time.time(), [], "claude-sonnet-4-5", None, endpoint, 200, ["x=200"], 5.0,
                       1.0, usage, "a"))  # fmt: skip
    ledger.flush_now()
    out = io.StringIO()
    assert run_usage(args(), out) == 0
    lines = out.getvalue().splitlines()
    assert lines[1].split()[:2] == ["endpoint", "requests"]
    assert lines[2].split()[:2] == ["a", "2"]
    assert lines[-1].split()[:2] == ["total", "3"]
    out = io.StringIO()
    assert run_usage(args(json=True, by="model"), out) == 0
    report = json.loads(out.getvalue())
    assert report["totals"]["requests"] == 3
    assert report["totals"]["cost"] == pytest.approx(3 * (1000 * 3 + 100 * 15) / 1e6)
    assert report["rows"][0]["key"] == "claude-sonnet-4-5"


def test_a_broken_file_is_an_error_not_a_crash(ledger_path: Path, capsys) -> None:
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_bytes(b"garbage" * 1000)
    assert run_usage(args(), io.StringIO()) == 1
    assert "cannot read" in capsys.readouterr().err


def test_no_file_yet_is_no_requests(ledger_path: Path) -> None:
    out = io.StringIO()
    assert run_usage(args(), out) == 0
    assert "No requests recorded" in out.getvalue()
    assert run_usage(args(since="x"), io.StringIO()) == 2
