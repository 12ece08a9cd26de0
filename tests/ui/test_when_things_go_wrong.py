"""The settings page when something goes wrong, in Chromium against the tray's own service.

Each dead end of the first-run experience is walked as a person meets it: the port taken
at start, a broken config file, no tray host, errors in the editor and General, unsaved
changes, deleting, narrow windows. Screenshots: test-artifacts/screens/.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.fakes import FakesInThread
from tests.ui.desktop_states import LONG_NAME, box, free_port, overlaps, page_for, scene, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(150)]


def send(url: str) -> int:
    body = json.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/v1/messages", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def signed_in(page, link: str, ready: str = "#endpoint-list .endpoint") -> None:
    page.goto(link)
    page.wait_for_selector(ready)


@pytest.fixture
def fakes(threaded_fakes: FakesInThread) -> FakesInThread:
    return threaded_fakes


def test_port_in_use_is_fixed_from_the_settings_window(tmp_path: Path, fakes) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with scene(tmp_path, fakes, port=port) as s, page_for(tmp_path) as page:
            assert s.service.snapshot().overall == "error"
            signed_in(page, s.link("general"), "#view-general:not([hidden])")
            page.wait_for_selector("#port-problem:not([hidden])")
            assert f"Port {port} on 127.0.0.1 is in use" in page.inner_text("#port-problem")
            assert page.get_attribute("#status", "data-state") == "error"
            assert page.evaluate("document.activeElement.id") == "gen-port"
            shoot(page, "port-in-use-general")
            page.fill("#gen-port", "70000")
            page.click("#general-form button[type=submit]")
            assert page.inner_text('[data-error="listen.port"]') == "Use a port from 1 to 65535"
            shoot(page, "port-in-use-bad-port")
            new_port = free_port()
            page.fill("#gen-port", str(new_port))
            page.click("#general-form button[type=submit]")
            page.wait_for_url(f"http://127.0.0.1:{new_port}/_ccf/#general")
            page.wait_for_selector("#status[data-state=ok]")
            assert page.inner_text("#listen-hint").startswith(
                f"Now listening on http://127.0.0.1:{new_port}."
            )
            assert page.is_hidden("#port-problem")
            assert s.service.snapshot().overall == "ok"
            assert s.service.url == f"http://127.0.0.1:{new_port}"
            text = s.path.read_text()
            assert text.startswith("# my settings\n")
            assert yaml.safe_load(text)["listen"]["port"] == new_port
            shoot(page, "port-fixed-general")


def test_a_broken_config_file_opens_at_the_bad_line(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        good = s.path.read_text()
        s.path.write_text(good.replace("auth: client}", "auth: token}", 1))
        deadline = time.monotonic() + 10
        while not s.service.snapshot().problem and time.monotonic() < deadline:
            time.sleep(0.1)  # the watcher looks once a second
        assert "auth" in s.service.snapshot().problem
        signed_in(page, s.link("problem"))
        page.wait_for_selector("#file-problem:not([hidden])")
        assert page.evaluate("document.activeElement.id") == "file-problem"
        banner = page.inner_text("#file-problem")
        assert "line 4" in banner
        assert "'token' is not allowed" in banner
        assert str(s.path) in banner
        assert page.get_attribute("#status", "data-state") == "warning"
        assert page.inner_text("#file-problem-lines mark").strip() == (
            f"4    - {{name: anthropic, base_url: '{s.a.url}', auth: token}}"
        )
        shoot(page, "config-file-broken")


def test_no_tray_host_banner_says_how_to_get_the_icon(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link("notray"))
        page.wait_for_selector("#notray:not([hidden])")
        assert "AppIndicator" in page.inner_text("#notray")
        assert page.url.endswith("#endpoints")
        shoot(page, "no-tray-host")
        page.click("#notray-ok")
        assert page.is_hidden("#notray")


def test_the_editor_shows_every_error_under_its_own_field(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        page.click("#add-endpoint")
        page.select_option("#ed-key-source", "env")
        page.fill("#ed-base_url", "openrouter.ai")
        page.click("#add-model")
        page.locator("#model-rows [data-role=pattern]").last.fill("claude-*")
        assert page.is_visible("#model-head")  # the rows keep their column headings
        page.click("#editor-save")
        errors = {
            name: page.inner_text(f'[data-error="{name}"]')
            for name in ("name", "base_url", "env_var", "models")
        }
        assert errors == {
            "name": "Give the endpoint a name",
            "base_url": "This is not an http:// or https:// URL",
            "env_var": "Name the environment variable that holds the key",
            "models": "Say which model to send when Claude Code asks for claude-*",
        }
        assert page.inner_text('[data-error="key"]') == ""  # not on the key source
        target = page.locator("#model-rows [data-role=target]").last
        assert target.get_attribute("aria-invalid") == "true"
        pattern = page.locator("#model-rows [data-role=pattern]").last
        assert pattern.get_attribute("aria-invalid") is None
        shoot(page, "editor-all-errors")
        page.fill("#ed-name", "spare")
        page.click("#editor-save")
        assert page.inner_text('[data-error="name"]') == (
            "This name is already used by another endpoint"
        )
        assert "spare" not in s.path.read_text().split("spare", 1)[1]  # nothing written


def test_a_key_with_spaces_is_trimmed_or_refused(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        row = page.locator(f'[data-name="{LONG_NAME}"]')
        assert row.locator(".badge").first.inner_text() == "no key"  # not a green "ready"
        row.get_by_role("button", name=f"Edit {LONG_NAME}").click()
        page.fill("#ed-secret", "sk-or inner space")
        page.click("#editor-save")
        assert "no spaces or line breaks inside" in page.inner_text('[data-error="secret"]')
        page.fill("#ed-secret", "  sk-or-trimmed-1234 \n")
        page.click("#editor-save")
        page.wait_for_selector("#toast:has-text('Removed the spaces')")
        page.wait_for_selector(f'[data-name="{LONG_NAME}"] .badge.ok')
        assert s.keys.values[LONG_NAME] == "sk-or-trimmed-1234"


def test_the_test_button_mentions_401_only_for_a_401(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        result = page.locator('[data-name="anthropic"] [data-role=result]')
        s.a.status(500)
        page.locator('[data-name="anthropic"]').get_by_role("button", name="Test").click()
        page.wait_for_selector('[data-name="anthropic"] [data-role=result]:has-text("HTTP 500")')
        assert "401" not in result.inner_text()
        s.a.status(401)
        page.locator('[data-name="anthropic"]').get_by_role("button", name="Test").click()
        page.wait_for_selector('[data-name="anthropic"] [data-role=result]:has-text("HTTP 401")')
        assert "401 means it is reachable" in result.inner_text()


def test_unsaved_changes_and_delete_ask_in_the_page(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        page.locator('[data-name="spare"]').get_by_role("button", name="Edit spare").click()
        page.fill("#ed-base_url", "https://changed.example")
        page.click('.sidebar a[href="#endpoints"]')  # the address already ends in #endpoints
        page.wait_for_selector("#ask[open]")
        assert page.inner_text("#ask-text") == "Discard your changes to spare?"
        shoot(page, "editor-unsaved-changes")
        page.click("#ask-no")  # Keep editing
        assert page.is_visible("#view-editor")
        assert page.input_value("#ed-base_url") == "https://changed.example"
        page.click('.sidebar a[href="#endpoints"]')
        page.click("#ask-yes")  # Discard
        page.wait_for_selector("#view-endpoints:not([hidden])")
        assert "changed.example" not in s.path.read_text()

        page.click('.sidebar a[href="#general"]')
        page.locator('.sidebar a[href="#endpoints"]').click()
        page.locator('[data-name="spare"]').get_by_role("button", name="Edit spare").click()
        page.click('.sidebar a[href="#endpoints"]')  # nothing changed: no question
        page.wait_for_selector("#view-endpoints:not([hidden])")
        page.locator('[data-name="spare"]').get_by_role("button", name="Edit spare").click()
        page.click("#editor-delete")
        page.wait_for_selector("#ask[open]")
        assert page.inner_text("#ask-text") == "Delete spare?"
        shoot(page, "editor-delete-dialog")
        page.click("#ask-yes")
        page.wait_for_selector("#view-endpoints:not([hidden])")
        page.wait_for_selector('[data-name="spare"]', state="detached")
        assert "spare" not in [e["name"] for e in yaml.safe_load(s.path.read_text())["endpoints"]]


def test_layout_at_1280_and_400(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        s.a.status(529)
        page.locator('[data-name="anthropic"]').get_by_role("button", name="Test").click()
        page.wait_for_selector('[data-name="anthropic"] [data-role=result]:has-text("HTTP")')
        shoot(page, "endpoints")
        assert box(page, "#pin-select")["width"] < 300  # a long name does not widen it

        page.set_viewport_size({"width": 400, "height": 800})
        sidebar = box(page, ".sidebar")
        assert sidebar["width"] > 380  # collapsed to a row of tabs
        assert sidebar["height"] < 60
        row = '[data-name="anthropic"]'
        assert not overlaps(box(page, f"{row} [data-role=test]"), box(page, f"{row} .badge.tag"))
        url = page.locator(f'[data-name="{LONG_NAME}"] .ep-url')
        assert url.evaluate("e => e.scrollWidth <= e.clientWidth")  # whole, not "htt…"
        assert page.evaluate("document.documentElement.scrollWidth") <= 400

        page.set_viewport_size({"width": 1280, "height": 800})
        page.locator(f'[data-name="{LONG_NAME}"]').get_by_role("button").nth(2).click()
        page.wait_for_selector("#view-editor:not([hidden])")
        heights = {sel: box(page, sel)["height"] for sel in ("#ed-name", "#ed-format", "#ed-auth")}
        assert len(set(heights.values())) == 1, heights
        assert page.is_hidden("#model-head")  # no rows, no headings
        page.click("#add-model")
        page.locator("#model-rows [data-role=pattern]").last.fill("claude-sonnet-*")
        page.locator("#model-rows [data-role=target]").last.fill("anthropic/claude-sonnet-4.5")
        assert page.is_visible("#model-head")
        shoot(page, "editor")
        page.click('.sidebar a[href="#endpoints"]')
        page.click("#ask-yes")  # discard the unsaved mapping
        page.wait_for_selector("#view-endpoints:not([hidden])")

        send(s.service.url)  # a 529 from anthropic: fails over to spare
        s.a.ok()
        for _ in range(2):
            send(s.service.url)
        page.click('.sidebar a[href="#activity"]')
        page.wait_for_selector("#activity-table tbody tr")
        assert box(page, "#activity-wrap")["width"] > 900  # uses the width at 1280
        page.set_viewport_size({"width": 400, "height": 800})
        wrap = page.locator("#activity-wrap")
        assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # nothing clipped
        shoot(page, "activity")
        page.click('.sidebar a[href="#general"]')
        shoot(page, "general")
        page.click('.sidebar a[href="#claude"]')
        page.wait_for_selector("#snippets .card")
        shoot(page, "claude-code")


def test_pinned_and_paused_while_failing_have_their_own_words(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        page.select_option("#pin-select", "spare")
        page.wait_for_selector("#status[data-state=pinned]")
        assert page.inner_text("#status-text").startswith("Pinned: serving via spare")
        shoot(page, "pinned")
        page.select_option("#pin-select", "")
        page.wait_for_selector("#status[data-state=ok]")
        s.a.status(529)
        assert send(s.service.url) == 200  # anthropic fails, spare answers
        page.click("#pause-switch + .switch")
        page.wait_for_selector("#pause-switch:checked", state="attached")
        page.wait_for_selector("#status[data-state=down]")
        assert page.inner_text("#status-text").startswith(
            "Failover paused and anthropic is failing: requests fail"
        )
        shoot(page, "paused-while-failing")


def test_an_error_elsewhere_in_the_file_is_not_put_under_this_form(tmp_path: Path, fakes) -> None:
    with scene(tmp_path, fakes) as s, page_for(tmp_path) as page:
        signed_in(page, s.link())
        text = s.path.read_text()
        broken = text.replace(
            f"name: spare, base_url: '{s.spare.url}'", "name: spare, base_url: nope"
        )
        assert broken != text
        s.path.write_text(broken)
        page.locator('[data-name="anthropic"]').get_by_role("button", name="Edit anthropic").click()
        page.fill("#ed-base_url", "https://changed.example")
        page.click("#editor-save")
        general = page.locator("#err-general")
        general.wait_for()
        assert general.inner_text().startswith("Not saved: another endpoint, spare, has a problem")
        assert page.inner_text('[data-error="base_url"]') == ""
        assert page.get_attribute("#ed-base_url", "aria-invalid") is None
        assert "changed.example" not in s.path.read_text()
        shoot(page, "editor-error-elsewhere")
