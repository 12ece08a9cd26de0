"""Who may use the admin API and the page: token or session, no web pages, JSON only."""

from __future__ import annotations

import asyncio
import re

import pytest
from yarl import URL

from tests.proxy.admin.admin_helpers import TOKEN

CONFIG = "endpoints: [{name: a, base_url: '%s'}]\n"


@pytest.fixture
async def setup(upstreams, admin_proxy):
    a = await upstreams("a")
    return a, await admin_proxy(CONFIG % a.url)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Cookie": "ccf_session=forged"},
    ],
)
async def test_every_call_needs_the_admin_token(setup, headers) -> None:
    _, proxy = setup
    for method, path in [
        ("GET", "config"),
        ("GET", "endpoints"),
        ("PUT", "routing"),
        ("POST", "login-codes"),
    ]:
        async with proxy.session.request(
            method, f"{proxy.url}/_ccf/api/{path}", headers=headers, json={"paused": True}
        ) as response:
            assert response.status == 401
            assert "ccf settings" in (await response.json())["error"]["message"]
    assert proxy.runtime.config.routing.paused is False


async def test_the_right_token_is_accepted(setup) -> None:
    _, proxy = setup
    data = await proxy.json("GET", "config")
    assert data["config"]["endpoints"][0]["name"] == "a"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
async def test_browser_requests_from_other_sites_are_refused(setup, headers) -> None:
    _, proxy = setup
    async with proxy.call("PUT", "routing", json={"paused": True}, headers=headers) as response:
        assert response.status == 403
        assert not any(h.lower().startswith("access-control-") for h in response.headers)
    assert proxy.runtime.config.routing.paused is False


async def test_same_origin_page_requests_pass(setup) -> None:
    _, proxy = setup
    headers = {"Origin": proxy.url, "Sec-Fetch-Site": "same-origin"}
    async with proxy.call("PUT", "routing", json={"paused": True}, headers=headers) as response:
        assert response.status == 200
    assert proxy.runtime.config.routing.paused is True


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"paused": true}'),
        ("application/x-www-form-urlencoded", "paused=true"),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
async def test_writes_take_json_only(setup, content_type, body) -> None:
    _, proxy = setup
    async with proxy.call(
        "PUT", "routing", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == 415
    assert proxy.runtime.config.routing.paused is False


async def test_no_cors_preflight_is_answered(setup) -> None:
    a, proxy = setup
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}
    async with proxy.session.options(f"{proxy.url}/_ccf/api/routing", headers=headers) as response:
        assert response.status in (401, 403, 404, 405)
        assert not any(h.lower().startswith("access-control-") for h in response.headers)
    assert a.received == []


async def test_the_page_is_served_with_a_strict_policy(setup) -> None:
    _, proxy = setup
    async with proxy.session.get(f"{proxy.url}/_ccf/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "app.js" in await response.text()
    async with proxy.session.get(f"{proxy.url}/_ccf/app.js") as response:
        assert response.content_type == "text/javascript"
    async with proxy.session.get(f"{proxy.url}/_ccf", allow_redirects=False) as response:
        assert response.status == 303


@pytest.mark.parametrize(
    "path",
    [
        "/_ccf/secrets.txt",
        "/_ccf/static/app.js",
        "/_ccf/api/nothing",
        "/_ccf/v1/messages",
    ],
)
async def test_only_the_page_files_are_served_and_nothing_is_forwarded(setup, path) -> None:
    a, proxy = setup
    async with proxy.session.get(
        proxy.url + path, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        assert response.status in (403, 404)
        assert "[project]" not in await response.text()
    assert a.received == []


@pytest.mark.parametrize(
    "path", ["/_ccf/../pyproject.toml", "/_ccf/%2e%2e/pyproject.toml", "/_ccf/..%2fpyproject.toml"]
)
async def test_no_path_leads_out_of_the_page_files(setup, path) -> None:
    _, proxy = setup
    url = URL(proxy.url + path, encoded=True)
    async with proxy.session.get(url) as response:
        assert "[project]" not in await response.text()


async def test_the_host_check_covers_the_admin_api(setup) -> None:
    _, proxy = setup
    headers = {"Host": f"evil.example:{proxy.server.port}", "Authorization": f"Bearer {TOKEN}"}
    async with proxy.session.get(f"{proxy.url}/_ccf/api/config", headers=headers) as response:
        assert response.status == 403


async def test_login_code_becomes_an_httponly_strict_session_once(setup, clock) -> None:
    _, proxy = setup
    code = (await proxy.json("POST", "login-codes"))["code"]
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={code}", allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/_ccf/"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/_ccf" in cookie
        session = response.cookies["ccf_session"].value
    assert session not in (code, TOKEN)
    cookie_header = {"Cookie": f"ccf_session={session}"}
    async with proxy.session.get(f"{proxy.url}/_ccf/api/config", headers=cookie_header) as response:
        assert response.status == 200
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={code}", allow_redirects=False
    ) as response:
        assert response.status == 403  # single use
    late = (await proxy.json("POST", "login-codes"))["code"]
    clock.advance(61)
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={late}", allow_redirects=False
    ) as response:
        assert response.status == 403  # expired


async def test_a_login_link_followed_from_another_site_is_refused(setup) -> None:
    _, proxy = setup
    code = (await proxy.json("POST", "login-codes"))["code"]
    headers = {"Sec-Fetch-Site": "cross-site"}
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={code}", headers=headers, allow_redirects=False
    ) as response:
        assert response.status == 403
        assert "Set-Cookie" not in response.headers


async def test_the_admin_api_ignores_the_access_token_but_keeps_its_own(
    upstreams, admin_proxy
) -> None:
    a = await upstreams("a")
    proxy = await admin_proxy(CONFIG % a.url + "security: {access_token: tttttttttttttttttttt}\n")
    await proxy.json("GET", "config")
    async with proxy.session.get(f"{proxy.url}/_ccf/api/config") as response:
        assert response.status == 401


async def test_every_route_is_behind_the_host_guard(setup) -> None:
    """No route, whoever registers it, skips the guard: a foreign Host is refused on each,
    even with the admin token, and nothing reaches the upstream."""
    a, proxy = setup
    routes = list(proxy.server.runner.app.router.routes())
    assert len(routes) > 20
    for route in routes:
        path = re.sub(r"\{[^}]*\}", "x.js", route.resource.canonical)
        method = "POST" if route.method == "*" else route.method
        headers = {"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}
        async with proxy.session.request(
            method, proxy.url + path, headers=headers, json={}
        ) as response:
            assert response.status == 403, (route.method, path)
    assert a.received == []


async def test_wrong_login_codes_lock_sign_in_out_visibly(setup, clock) -> None:
    a, proxy = setup
    good = proxy.admin.sessions.new_code()
    for _ in range(10):
        async with proxy.session.get(
            f"{proxy.url}/_ccf/login?code=guess", allow_redirects=False
        ) as response:
            assert response.status == 403
    for code in ("guess", good):  # locked: even the good code waits
        async with proxy.session.get(
            f"{proxy.url}/_ccf/login?code={code}", allow_redirects=False
        ) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "60"
            assert "Too many attempts, try again in 60 s." in await response.text()
            assert "Set-Cookie" not in response.headers
    clock.advance(45)
    async with proxy.session.get(f"{proxy.url}/_ccf/login?code=x") as response:
        assert "try again in 15 s" in await response.text()
    clock.advance(15)
    fresh = proxy.admin.sessions.new_code()  # the first expired meanwhile
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={fresh}", allow_redirects=False
    ) as response:
        assert response.status == 303
        assert "ccf_session" in response.cookies
    assert a.received == []


async def test_wrong_admin_tokens_lock_the_api_out(setup, clock) -> None:
    _, proxy = setup
    for _ in range(10):
        async with proxy.session.get(
            f"{proxy.url}/_ccf/api/config", headers={"Authorization": "Bearer wrong-guess"}
        ) as response:
            assert response.status == 401
    async with proxy.call("GET", "config") as response:  # the right token waits too
        assert response.status == 429
        assert "try again in 60 s" in (await response.json())["error"]["message"]
    clock.advance(60)
    await proxy.json("GET", "config")


async def test_ccf_settings_tells_of_the_lock_out(setup) -> None:
    from tray_app.settings_cli import SettingsError, admin_call

    _, proxy = setup
    for _ in range(10):
        with pytest.raises(SettingsError, match="did not accept"):
            await asyncio.to_thread(admin_call, proxy.url, "login-codes", "wrong-token")
    with pytest.raises(SettingsError, match=r"Too many sign-in attempts; try again in 60 s\."):
        await asyncio.to_thread(admin_call, proxy.url, "login-codes", TOKEN)


async def test_the_activity_and_endpoint_views_mask_echoed_keys(upstreams, admin_proxy) -> None:
    """The client's own key, echoed by an upstream into an error, and an `sk-` key in a query
    path, reach neither the endpoints view (last_error) nor the activity view (path)."""
    from aiohttp import web

    a = await upstreams("a")
    client_key = "client-own-key-0a1b2c3d4e"
    in_path = "sk-ant-api03-InThePathString01234567"

    async def echo(request: web.Request) -> web.Response:
        message = f"invalid x-api-key {request.headers.get('x-api-key')}"
        error = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
        return web.json_response(error, status=529)  # a failure that marks the endpoint

    a.behaviour = echo
    bodies: list[str] = []
    proxy = await admin_proxy(f"endpoints: [{{name: a, base_url: '{a.url}', auth: client}}]\n")
    async with proxy.session.post(
        f"{proxy.url}/v1/messages",
        json={"model": "m", "messages": []},
        headers={"x-api-key": client_key},
    ) as response:
        bodies.append(await response.text())
        assert response.status == 529
    async with proxy.session.post(
        f"{proxy.url}/v1/keys/{in_path}",
        json={"model": "m", "messages": []},
        headers={"x-api-key": client_key},
    ) as response:
        bodies.append(await response.text())
        assert response.status == 529
    endpoints = await proxy.json("GET", "endpoints")
    activity = await proxy.json("GET", "activity")
    assert "***" in endpoints["endpoints"][0]["last_error"]
    assert "***" in activity["items"][0]["path"]
    for text in (*bodies, str(endpoints), str(activity)):
        assert client_key not in text
        assert in_path not in text
