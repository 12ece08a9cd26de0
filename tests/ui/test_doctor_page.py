"""End to end: the Check set-up page in Chromium against a real `ccf serve`.

The page finds that Claude Code is not pointed at the proxy, writes settings.json with its
button, then Stop using the proxy gives the file its earlier value back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from proxy.keys import SystemKeyring
from tests.fakes import FakesInThread
from tests.serve import ccf_serve
from tests.ui.browser import chromium_page, shot
from tray_app.settings_cli import login_link_source

pytestmark = [pytest.mark.browser, pytest.mark.keyring, pytest.mark.slow]


@pytest.fixture
def served(tmp_path: Path, threaded_fakes: FakesInThread):
    a = threaded_fakes.start("a")
    config = tmp_path / "config.yaml"
    config.write_text(f"endpoints:\n  - {{name: primary, base_url: '{a.url}'}}\n")
    claude = tmp_path / "claude"
    claude.mkdir()
    settings = claude / "settings.json"
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://old.example"}}))
    env = {**os.environ, "CCF_CONFIG": str(config), "CLAUDE_CONFIG_DIR": str(claude)}
    with ccf_serve(config, env=env) as url:
        yield url, settings, tmp_path


def finding(page, check: str):
    return page.locator(f'.finding[data-check="{check}"]')


def test_check_set_up_writes_settings_then_stops_using_the_proxy(served) -> None:
    url, settings, tmp_path = served
    with chromium_page(tmp_path / "profile") as page:
        page.goto(login_link_source(url, SystemKeyring())())
        page.wait_for_selector("#endpoint-list .endpoint")
        page.click('a[data-nav="doctor"]')
        settings_card = finding(page, "claude-settings")
        settings_card.wait_for()
        assert "sends Claude Code to https://old.example" in settings_card.inner_text()
        assert "reachable" in finding(page, "endpoint:primary").inner_text()
        shot(page, "doctor-light")
        settings_card.get_by_role("button", name="Write to settings.json…").click()
        page.locator(".confirm").get_by_role("button", name="Write to settings.json").click()
        page.wait_for_selector('.finding[data-check="backup"]')
        assert json.loads(settings.read_text())["env"]["ANTHROPIC_BASE_URL"] == url
        assert "points at this proxy" in finding(page, "claude-settings").inner_text()
        page.click("#doctor-stop")
        page.locator(".confirm").get_by_role("button", name="Stop using the proxy").click()
        page.wait_for_selector("#doctor-result:has-text('restored from the backup')")
        shot(page, "doctor-after-stop-light")
    assert json.loads(settings.read_text()) == {
        "env": {"ANTHROPIC_BASE_URL": "https://old.example"}
    }
