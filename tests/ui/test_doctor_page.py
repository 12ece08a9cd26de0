"""End to end: the Check set-up page in Chromium against a real `ccf serve`.

The page finds that Claude Code is not pointed at the proxy, writes settings.json with its
button, then Stop using the proxy gives the file its earlier value back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

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


@pytest.fixture
def served_with_ccr(tmp_path: Path, threaded_fakes: FakesInThread):
    a, b = threaded_fakes.start("a"), threaded_fakes.start("b")
    b.raw(
        200,
        json.dumps(
            {"object": "list", "data": [{"id": "fake-coder"}, {"id": "fake-chat"}]}
        ).encode(),
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"endpoints:\n  - {{name: primary, base_url: '{a.url}'}}\n")
    home = tmp_path / "home"
    (home / ".claude-code-router").mkdir(parents=True)
    (home / ".claude-code-router" / "config.json").write_text(
        json.dumps(
            {
                "Providers": [
                    {
                        "name": "fakeprov",
                        "api_base_url": f"{b.url}/v1/chat/completions",
                        "api_key": "sk-fake-provider-4321",
                        "models": ["fake-chat"],
                    },
                    {
                        "name": "other",
                        "api_base_url": f"{b.url}/v1/chat/completions",
                        "api_key": "sk-other-9999",
                        "models": ["x"],
                    },
                ]
            }
        )
    )
    env = {
        **os.environ,
        "CCF_CONFIG": str(config),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "HOME": str(home),
    }
    with ccf_serve(config, env=env) as url:
        yield url, config, tmp_path
    SystemKeyring().delete("fakeprov")


def test_move_in_from_claude_code_router_and_map_from_the_providers_list(served_with_ccr) -> None:
    url, config, tmp_path = served_with_ccr
    with chromium_page(tmp_path / "profile", height=900) as page:
        page.goto(login_link_source(url, SystemKeyring())())
        page.wait_for_selector("#endpoint-list .endpoint")
        page.click('a[data-nav="doctor"]')
        page.click("#import-look")
        card = page.locator(".import-source")
        card.wait_for()
        assert "sk-fake" not in card.inner_text()
        card.locator('input[value="other"]').uncheck()
        shot(page, "move-in-light")
        card.get_by_role("button", name="Import selected").click()
        page.wait_for_selector("#import-result:has-text('Imported fakeprov')")
        assert "fakeprov" in config.read_text()
        assert "other" not in config.read_text()
        assert "sk-fake" not in config.read_text()
        assert SystemKeyring().get("fakeprov") == "sk-fake-provider-4321"
        page.click('a[data-nav="endpoints"]')
        page.locator('#endpoint-list [data-name="fakeprov"] [data-role=edit]').click()
        page.click("#load-models")
        page.wait_for_selector("#models-status:has-text('2 models')")
        options = page.locator("#provider-models option")
        assert [options.nth(i).get_attribute("value") for i in range(2)] == [
            "fake-chat",
            "fake-coder",
        ]
        assert (
            page.locator("#model-rows [data-role=target]").first.get_attribute("list")
            == "provider-models"
        )
        shot(page, "editor-model-list-light")
        page.locator("#model-rows [data-role=target]").first.fill("fake-coder")
        page.fill("#ed-ca_file", str(tmp_path / "corp-ca.pem"))
        page.click("#editor-save")
        page.wait_for_selector('#endpoint-list [data-name="fakeprov"]')
    saved = yaml.safe_load(config.read_text())["endpoints"][1]
    assert saved["ca_file"] == str(tmp_path / "corp-ca.pem")
    assert saved["models"] == {"*": "fake-coder"}
