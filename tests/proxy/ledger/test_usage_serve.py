"""The usage ledger as a user meets it: `ccf serve`, fake providers, the file, `ccf usage`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes import FakesInThread
from tests.proxy.ledger.usage_helpers import (
    CASES,
    expected_totals,
    get,
    ledger_file,
    run_cases,
    serve_env,
    summary_of,
    wait_for_rows,
    write_config,
)
from tests.serve import ccf_serve, run_ccf

pytestmark = pytest.mark.slow


@pytest.fixture
def setup(tmp_path: Path, threaded_fakes: FakesInThread) -> tuple[Path, dict[str, str]]:
    a, b, o = (threaded_fakes.start(name) for name in ("a", "b", "o"))
    config = write_config(tmp_path / "config.yaml", a, b, o)
    return config, serve_env(tmp_path / "data")


def test_every_request_leaves_one_row_with_the_tokens_the_providers_reported(
    setup: tuple[Path, dict[str, str]], threaded_fakes: FakesInThread, tmp_path: Path
) -> None:
    config, env = setup
    with ccf_serve(config, env=env) as url:
        run_cases(url, threaded_fakes)
        found = wait_for_rows(ledger_file(tmp_path / "data"), len(CASES))
        metrics = get(f"{url}/metrics")
    assert len(found) == len(CASES)
    for row, (case, _, status, endpoint, rescued, tokens) in zip(found, CASES, strict=True):
        names = dict(row)
        assert names["status"] == status, case
        assert bool(names["rescued"]) == rescued, case
        got = (names["input"], names["output"], names["cache_read"], names["cache_write"])
        assert got == tokens, case
        assert (names["endpoint"] is None) == (endpoint is None), case
    assert f"ccf_usage_rows_written_total {len(CASES)}.0" in metrics
    assert 'ccf_usage_rows_dropped_total{reason="write_failed"} 0.0' in metrics


def test_rows_name_models_endpoints_sessions_and_cost(
    setup: tuple[Path, dict[str, str]], threaded_fakes: FakesInThread, tmp_path: Path
) -> None:
    config, env = setup
    path = ledger_file(tmp_path / "data")
    with ccf_serve(config, env=env) as url:
        run_cases(url, threaded_fakes, session="abc-123")
        wait_for_rows(path, len(CASES))
        log = json.loads(get(f"{url}/_ccf/api/usage/requests", headers=admin(env, url)))
    items = list(reversed(log["items"]))
    assert [item["endpoint"] for item in items] == [case[3] for case in CASES]
    assert {item["session"] for item in items} == {"abc-123"}
    first, openai = items[0], items[3]
    assert first["model"] == first["served"] == "claude-sonnet-4-5"
    assert first["cost"] == pytest.approx((12 * 3 + 3 * 15 + 100 * 0.3 + 50 * 3.75) / 1e6)
    assert (openai["model"], openai["served"]) == ("claude-sonnet-4-5", "gpt-5")
    assert openai["cost"] == pytest.approx((20 * 1.25 + 9 * 10) / 1e6)
    assert items[1]["ttft_ms"] is not None
    assert items[1]["ttft_ms"] <= items[1]["latency_ms"]
    assert items[2]["attempts"] == "a=529, b=200"
    assert items[5]["cost"] == 0  # no tokens, no cost


def admin(env: dict[str, str], url: str) -> dict[str, str]:
    """The admin token that `ccf serve` keeps for this HOME (made on first use)."""
    from proxy.admin.token import ensure_admin_token
    from proxy.keys import SystemKeyring

    token = ensure_admin_token(SystemKeyring())
    return {"Authorization": f"Bearer {token}"}


def test_rows_survive_a_restart_and_ccf_usage_sums_them(
    setup: tuple[Path, dict[str, str]], threaded_fakes: FakesInThread, tmp_path: Path
) -> None:
    config, env = setup
    path = ledger_file(tmp_path / "data")
    with ccf_serve(config, env=env) as url:
        run_cases(url, threaded_fakes)
        wait_for_rows(path, len(CASES))
    with ccf_serve(config, env=env) as url:
        run_cases(url, threaded_fakes)
        wait_for_rows(path, 2 * len(CASES))
    done = run_ccf("usage", "--since", "1d", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    twice = {name: 2 * n for name, n in expected_totals().items()}
    assert summary_of(report["totals"]) == twice
    by_endpoint = {row["key"]: row["requests"] for row in report["rows"]}
    served = Counter(case[3] or "none" for case in CASES)
    assert by_endpoint == {name: 2 * n for name, n in served.items()}
    text = run_ccf("usage", "--by", "model", env=env)
    assert "gpt-5" in text.stdout
    assert "claude-sonnet-4-5" in text.stdout
