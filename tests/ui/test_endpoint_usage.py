"""The endpoints page shows each subscription's 5-hour and weekly utilisation, as the
rate-limit headers of its last answer stated them, and a limit that was reached.

The primary answers 429 with `anthropic-ratelimit-unified-status: rejected`; the spare serves
with 42 % of its 5-hour window and 85 % of its week used. Screenshots, light and dark, at
1280 and 400 px, land in test-artifacts/ui/.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.fakes import FakesInThread, message
from tests.serve import ccf_serve
from tests.ui.browser import chromium_page, shot
from tests.ui.test_settings_page import REQUEST, post, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.keyring, pytest.mark.slow]
U = "anthropic-ratelimit-unified-"


def rejected(now: float) -> dict[str, str]:
    week = f"{now + 3 * 86400:.0f}"
    return {
        U + "status": "rejected",
        U + "reset": week,
        U + "7d-utilization": "1.0",
        U + "7d-reset": week,
        U + "7d-status": "rejected",
        U + "5h-utilization": "0.3",
        U + "5h-reset": f"{now + 3600:.0f}",
        U + "5h-status": "allowed",
    }


def allowed(now: float) -> dict[str, str]:
    return {
        U + "status": "allowed_warning",
        U + "reset": f"{now + 7200:.0f}",
        U + "5h-utilization": "0.42",
        U + "5h-reset": f"{now + 7200:.0f}",
        U + "5h-status": "allowed",
        U + "7d-utilization": "0.85",
        U + "7d-reset": f"{now + 5 * 86400:.0f}",
        U + "7d-status": "allowed_warning",
    }


@pytest.fixture
def served(tmp_path: Path, threaded_fakes: FakesInThread):
    primary, spare = (threaded_fakes.start(n) for n in ("primary", "spare"))
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}'}}\n"
        f"  - {{name: spare, base_url: '{spare.url}'}}\n"
    )
    env = {**os.environ, "CCF_CONFIG": str(config), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    with ccf_serve(config, env=env) as url:
        now = time.time()
        primary.status(429, headers=rejected(now))
        spare.status(200, message(), headers=allowed(now))
        status, headers, _ = post(f"{url}/v1/messages", REQUEST)
        assert (status, headers["x-ccf-endpoint"]) == (200, "spare")
        yield url, tmp_path


@pytest.mark.timeout(150)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_endpoint_rows_show_utilisation_and_a_reached_limit(served, scheme: str) -> None:
    url, tmp = served
    for width in (1280, 400):
        profile = tmp / f"profile-{scheme}-{width}"
        with chromium_page(profile, width=width, height=700, scheme=scheme) as page:
            sign_in(page, url)
            spare = row(page, "spare").locator('[data-role="usage"]')
            spare.wait_for()
            five_hours = spare.locator('[data-window="5h"]').inner_text()
            assert re.fullmatch(r"5-hour\n42 %, resets ([A-Z][a-z]{2} )?\d\d:\d\d", five_hours)
            week = spare.locator('[data-window="7d"]')
            assert week.inner_text().startswith("Weekly\n85 %, resets ")
            assert "warn" in (week.get_attribute("class") or "")
            primary = row(page, "primary").locator('[data-role="usage"]')
            assert re.fullmatch(
                r"Subscription limit reached: refused until [A-Z][a-z]{2} \d\d:\d\d",
                primary.locator(".usage-rejected").inner_text(),
            )
            reached = primary.locator('[data-window="7d"]')
            assert "limit reached, resets " in reached.inner_text()
            assert "rejected" in (reached.get_attribute("class") or "")
            assert primary.locator('[data-window="5h"]').inner_text().startswith("5-hour\n30 %")
            shot(page, f"endpoints-usage-{width}-{scheme}")
