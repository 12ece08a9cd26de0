"""End to end: the settings page in Chromium against a real `ccf serve`.

A person adds an endpoint from a preset, sets its key, maps a model, reorders, disables,
tests; then the YAML on disk, the key in the real keyring and a real failover are checked.
Screenshots of every screen, light and dark, land in test-artifacts/ui/.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import keyring
import pytest
import yaml

from proxy.keys import SystemKeyring
from tests.fakes import FakesInThread
from tests.serve import ccf_serve
from tests.ui.browser import chromium_page, shot
from tests.ui.desktop_states import FULL_HEIGHT, SCREENS
from tray_app.settings_cli import login_link_source

pytestmark = [pytest.mark.browser, pytest.mark.keyring, pytest.mark.slow]
KEY = "sk-or-browser-test-9876"
REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
def served(tmp_path: Path, threaded_fakes: FakesInThread):
    a, spare, b = (threaded_fakes.start(n) for n in ("a", "spare", "b"))
    config = tmp_path / "config.yaml"
    config.write_text(
        "# my providers\n"
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{a.url}'}}\n"
        f"  - {{name: spare, base_url: '{spare.url}'}}\n"
    )
    env = {**os.environ, "CCF_CONFIG": str(config), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    with ccf_serve(config, env=env) as url:
        yield url, config, a, b, tmp_path
    SystemKeyring().delete("backup")


def post(url: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), json.load(response)


def sign_in(page, url: str) -> None:
    page.goto(login_link_source(url, SystemKeyring())())
    page.wait_for_selector("#endpoint-list .endpoint")
    assert page.url == f"{url}/_ccf/"


def shot_general_wide(page) -> None:
    """The General page at 1280 and 400 px, all of it, in test-artifacts/screens/."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 800})
        tall = page.evaluate(FULL_HEIGHT)  # main scrolls, not the page: show all of it
        page.set_viewport_size({"width": width, "height": max(800, min(int(tall), 3000))})
        page.screenshot(path=str(SCREENS / f"general-retention-{width}-light.png"))
    page.set_viewport_size({"width": 800, "height": 600})  # chromium_page's own size


def add_backup_from_preset(page, b_url: str) -> None:
    page.click("#add-endpoint")
    page.select_option("#preset", "openrouter")
    assert page.input_value("#ed-base_url") == "https://openrouter.ai/api"
    assert page.input_value("#ed-auth") == "bearer"
    page.fill("#ed-name", "backup")
    page.fill("#ed-base_url", "not a url")
    page.click("#editor-save")
    error = page.locator('[data-error="base_url"]')
    error.wait_for()
    assert "not an http:// or https:// URL" in error.inner_text()
    assert page.get_attribute("#ed-base_url", "aria-invalid") == "true"
    page.fill("#ed-base_url", b_url)
    page.fill("#ed-secret", KEY)
    star = page.locator("#model-rows .map-row").filter(has=page.locator('[value="*"]'))
    star.locator("[data-role=target]").fill("b-model")
    page.click("#add-model")
    new_row = page.locator("#model-rows .map-row").nth(2)  # goes above the catch-all "*"
    new_row.locator("[data-role=pattern]").fill("claude-sonnet-4-5")
    new_row.locator("[data-role=target]").fill("b-sonnet")
    shot(page, "editor-filled-light")
    page.click("#editor-save")
    page.wait_for_selector('#endpoint-list [data-name="backup"]')


def row(page, name: str):
    return page.locator(f'#endpoint-list [data-name="{name}"]')


@pytest.mark.timeout(150)
def test_a_person_sets_up_a_fallback_in_the_settings_page(served) -> None:
    url, config, a, b, _ = served
    with chromium_page(served[4] / "profile-light") as page:
        sign_in(page, url)
        shot(page, "endpoints-light")
        add_backup_from_preset(page, b.url)
        assert "ends in 9876" in row(page, "backup").inner_text()
        # reorder: drag backup above spare
        page.drag_and_drop(
            '[data-name="backup"] .handle', '[data-name="spare"]', target_position={"x": 40, "y": 4}
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('#endpoint-list .endpoint')].map(e => e.dataset.name).join() === 'primary,backup,spare'"
        )
        # disable spare
        row(page, "spare").locator(".switch").click()
        page.wait_for_selector('[data-name="spare"] .badge.disabled')
        # test backup against the fake upstream
        row(page, "backup").get_by_role("button", name="Test").click()
        result = row(page, "backup").locator("[data-role=result]")
        page.wait_for_selector('[data-name="backup"] [data-role=result]:has-text("HTTP")')
        assert re.search(
            r"✓ HTTP 200 in \d+ ms · model anthropic/claude-haiku-4.5", result.inner_text()
        )
        shot(page, "endpoints-after-light")

    assert b.received[-1].headers["authorization"] == f"Bearer {KEY}"
    text = config.read_text()
    assert KEY not in text
    assert text.startswith("# my providers\n")
    endpoints = yaml.safe_load(text)["endpoints"]
    assert [e["name"] for e in endpoints] == ["primary", "backup", "spare"]
    assert endpoints[1] == {
        "name": "backup",
        "base_url": b.url,
        "auth": "bearer",
        "key": "keyring",
        "models": {
            "claude-opus-*": "anthropic/claude-opus-4.1",
            "claude-haiku-*": "anthropic/claude-haiku-4.5",
            "claude-sonnet-4-5": "b-sonnet",
            "*": "b-model",
        },
        "limits": {"max_output_tokens": 32000, "context_tokens": 200000},  # from the preset
    }
    assert list(endpoints[1]["models"])[-2:] == ["claude-sonnet-4-5", "*"]  # first match wins
    assert endpoints[2]["enabled"] is False
    assert keyring.get_password("claude-code-fallback", "backup") == KEY

    a.status(529)
    status, headers, _ = post(f"{url}/v1/messages", REQUEST)
    assert status == 200
    assert headers["x-ccf-endpoint"] == "backup"
    assert headers["x-ccf-attempts"] == "primary=529, backup=200"
    assert b.received[-1].json["model"] == "b-sonnet"


@pytest.mark.timeout(150)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_screen_reads_well(served, scheme: str) -> None:
    url, config, a, _, tmp = served
    a.status(529)
    post(f"{url}/v1/messages", REQUEST)
    with chromium_page(tmp / f"profile-{scheme}", scheme=scheme) as page:
        sign_in(page, url)
        shot(page, f"endpoints-{scheme}")
        page.click("#add-endpoint")
        page.select_option("#preset", "openai")
        assert page.input_value("#ed-format") == "openai"
        shot(page, f"editor-{scheme}")
        page.click("#editor-cancel")
        page.click("#ask-yes")  # discard the new endpoint: asked in the page
        page.wait_for_selector("#view-endpoints:not([hidden])")
        page.click('.sidebar a[href="#general"]')
        page.wait_for_selector("#view-general:not([hidden])")
        assert page.input_value("#gen-retention") == "90"
        page.fill("#gen-connect", "0")
        page.fill("#gen-retention", "0")
        page.click("#general-form button[type=submit]")
        page.locator('[data-error="timeouts.connect"]').wait_for()
        retention_error = page.inner_text('[data-error="usage.retention_days"]')
        assert retention_error == "Use a whole number of days from 1 to 3650"
        shot(page, f"general-{scheme}")
        page.fill("#gen-connect", "5")
        page.fill("#gen-retention", "30")
        page.click("#general-form button[type=submit]")
        page.wait_for_selector("#gen-saved:has-text('Saved')")
        saved = yaml.safe_load(config.read_text())
        assert saved["timeouts"]["connect"] == 5
        assert saved["usage"] == {"retention_days": 30}
        assert config.read_text().startswith("# my providers\n")
        page.reload()
        page.click('.sidebar a[href="#general"]')
        page.wait_for_selector("#view-general:not([hidden])")
        assert page.input_value("#gen-retention") == "30"
        if scheme == "light":
            shot_general_wide(page)
        page.click('.sidebar a[href="#claude"]')
        page.wait_for_selector("#snippets .card")
        page.click("#write-settings")
        shot(page, f"claude-code-{scheme}")
        page.click("#settings-confirm-yes")
        page.wait_for_selector("#settings-result:has-text('Wrote')")
        written = json.loads((tmp / "claude" / "settings.json").read_text())
        assert written == {"env": {"ANTHROPIC_BASE_URL": url}}
        page.click('.sidebar a[href="#activity"]')
        page.wait_for_selector("#activity-table tbody tr")
        assert "primary=529" in page.inner_text("#activity-table")
        shot(page, f"activity-{scheme}")
    with chromium_page(
        tmp / f"profile-wide-{scheme}", width=1280, height=800, scheme=scheme
    ) as page:
        sign_in(page, url)
        shot(page, f"endpoints-wide-{scheme}")


def test_the_page_without_sign_in_says_how_to_get_in(served) -> None:
    url, *_, tmp = served
    with chromium_page(tmp / "profile-anon", strict=False) as page:
        page.goto(f"{url}/_ccf/")
        page.wait_for_selector("#signin:not([hidden])")
        assert "ccf settings" in page.inner_text("#signin")
        shot(page, "signed-out-light")
        page.goto(f"{url}/_ccf/login?code=spent")
        assert "expired" in page.inner_text("body")
