"""The Usage page in Chromium against a real `ccf serve` with a month of recorded requests.

Screenshots light, dark and narrow (400 px) land in test-artifacts/ui/.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import yaml

from proxy.core.config import Config, Endpoint, Price
from proxy.keys import SystemKeyring
from proxy.ledger.prices import bundled_prices
from proxy.ledger.rows import Pending
from proxy.ledger.writer import Ledger
from tests.fakes import FakesInThread
from tests.proxy.ledger.usage_helpers import (
    CASES,
    ledger_file,
    run_cases,
    serve_env,
    write_config,
)
from tests.serve import ccf_serve
from tests.ui.browser import chromium_page, shot
from tray_app.settings_cli import login_link_source

pytestmark = [pytest.mark.browser, pytest.mark.keyring, pytest.mark.slow]
DAY = 86400


def month_of_requests(path: Path) -> int:
    """About 40 requests a day for 30 days over three endpoints, some rescued, some failed."""
    pick = random.Random(7)
    endpoints = (Endpoint("a", "http://a"), Endpoint("b", "http://b"),
                 Endpoint("o", "http://o", price=Price(input=1.25, output=10)))  # fmt: skip
    ledger = Ledger(path, lambda: Config(endpoints=endpoints), bundled_prices())
    midnight = time.mktime((*time.localtime()[:3], 0, 0, 0, 0, 0, -1))
    rows: list[Pending] = []
    for day in range(29, 0, -1):  # and today: the 30-day span
        for _ in range(pick.randint(20, 60)):
            wall = midnight - day * DAY + pick.uniform(60, DAY - 60)  # before today
            endpoint = pick.choices(["a", "b", "o", None], [70, 15, 10, 5])[0]
            status = 502 if endpoint is None else pick.choices([200, 429], [95, 5])[0]
            steps = {"a": ["a=200"], None: ["a=529", "b=529", "o=502"]}.get(
                endpoint, ["a=529", f"{endpoint}=200"]
            )
            usage = f'{{"input_tokens": {pick.randint(2000, 40000)}, "output_tokens": {pick.randint(50, 3000)}, "cache_read_input_tokens": {pick.randint(0, 90000)}}}'
            served = "gpt-5" if endpoint == "o" else None
            rows.append((wall, [("x-claude-code-session-id", f"session-{day % 4}")],
                         "claude-sonnet-4-5", served, endpoint, status, steps, pick.uniform(400, 9000),
                         pick.uniform(200, 1500), usage.encode() if status == 200 else b"", "a"))  # fmt: skip
    for row in sorted(rows, key=lambda row: row[0]):
        ledger.record(row)
    ledger.flush_now()
    return len(rows)


@pytest.fixture
def served(tmp_path: Path, threaded_fakes: FakesInThread):
    a, b, o = (threaded_fakes.start(name) for name in ("a", "b", "o"))
    config = write_config(tmp_path / "config.yaml", a, b, o)
    env = serve_env(tmp_path / "data")
    ledger_file(tmp_path / "data").parent.mkdir(parents=True)
    recorded = month_of_requests(ledger_file(tmp_path / "data"))
    with ccf_serve(config, env=env) as url:
        run_cases(url, threaded_fakes)  # and today's, through the proxy
        yield url, recorded, tmp_path


def open_usage(page, url: str) -> None:
    page.goto(login_link_source(url, SystemKeyring())())
    page.wait_for_selector("#endpoint-list .endpoint")
    page.click('a[data-nav="usage"]')
    page.wait_for_selector('#usage-cards [data-card="requests"]')
    page.wait_for_function("() => document.querySelectorAll('#log-table tbody tr').length > 0")


def test_the_usage_page_shows_a_month(served) -> None:
    url, recorded, tmp_path = served
    with chromium_page(tmp_path / "profile") as page:
        open_usage(page, url)
        page.wait_for_function(
            "() => document.querySelector('[data-card=requests] .big').textContent"
            f" === '{len(CASES)}'"
        )
        assert page.locator("#chart-cost canvas").count() == 1
        page.click('#usage-span [data-days="30"]')
        total = f"{recorded + len(CASES):,}"
        page.wait_for_function(
            f"() => document.querySelector('[data-card=requests] .big').textContent === '{total}'"
        )
        keys = page.locator("#usage-table tbody td.key").all_inner_texts()
        assert keys == ["a", "b", "o", "no endpoint"]
        page.wait_for_timeout(200)
        shot(page, "usage light")
        page.click('#usage-by [data-by="model"]')
        page.wait_for_function("() => document.querySelector('#usage-key').textContent === 'Model'")
        assert "gpt-5" in page.locator("#usage-table tbody").inner_text()
        page.click('#usage-by [data-by="session"]')
        page.wait_for_function(
            "() => document.querySelector('#usage-key').textContent === 'Session'"
        )
        assert "session-1" in page.locator("#usage-table tbody").inner_text()
        page.select_option("#log-endpoint", "o")
        page.click("#log-filters button[type=submit]")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#log-table tbody tr td:nth-child(3)')]"
            ".every(td => td.textContent === 'o')"
        )
        assert "endpoint=o" in (page.get_attribute("#log-csv", "href") or "")
        page.select_option("#log-endpoint", "")
        page.click("#log-filters button[type=submit]")
        page.wait_for_function("() => !document.querySelector('#log-older').disabled")
        first = page.locator("#log-table tbody tr").first.inner_text()
        page.click("#log-older")
        page.wait_for_function("() => !document.querySelector('#log-newer').disabled")
        assert page.locator("#log-table tbody tr").first.inner_text() != first
        page.click("#log-newer")
        page.wait_for_function("() => document.querySelector('#log-newer').disabled")


@pytest.mark.parametrize(("scheme", "width", "name"), [("dark", 1000, "usage dark"),
                                                        ("light", 400, "usage narrow")])  # fmt: skip
def test_the_usage_page_in_dark_and_narrow(served, scheme: str, width: int, name: str) -> None:
    url, _, tmp_path = served
    with chromium_page(
        tmp_path / f"profile-{scheme}", scheme=scheme, width=width, height=900
    ) as page:
        open_usage(page, url)
        page.click('#usage-span [data-days="30"]')
        page.wait_for_function("() => document.querySelector('#chart-cost .u-legend') !== null")
        page.wait_for_timeout(200)
        shot(page, name)
        page.locator("#log-table tbody tr").last.scroll_into_view_if_needed()
        shot(page, f"{name} log")


def test_an_endpoints_price_is_set_in_the_editor(served) -> None:
    url, _, tmp_path = served
    with chromium_page(tmp_path / "profile-price") as page:
        page.goto(login_link_source(url, SystemKeyring())())
        page.locator('[data-name="b"]').get_by_role("button", name="Edit").click()
        page.fill("#ed-price-input", "0.27")
        page.fill("#ed-price-output", "1.1")
        page.locator("#price-field").scroll_into_view_if_needed()
        shot(page, "usage price editor")
        page.click("#editor-save")
        page.wait_for_selector("#endpoint-list .endpoint")
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["endpoints"][1]["price"]["input"] == 0.27
