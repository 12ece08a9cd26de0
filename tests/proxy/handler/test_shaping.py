"""What each upstream receives: path, query, headers, credentials, body and model."""

from __future__ import annotations

import json

REQUEST = {
    "model": "claude-haiku-4-5",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


async def test_client_auth_passes_credentials_and_query(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}/api"}}]')
    body = json.dumps(REQUEST, indent=2).encode()
    headers = {
        "authorization": "Bearer oauth-token",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "oauth-2025-04-20",
        "content-type": "application/json",
        "x-ccf-token": "not-forwarded",
        "connection": "keep-alive, x-drop-me",
        "x-drop-me": "1",
        "user-agent": "claude-cli/2.0",
    }
    async with await proxy.post("/v1/messages?beta=true", data=body, headers=headers) as response:
        assert response.status == 200
    sent = a.received[0]
    assert sent.path == "/api/v1/messages"
    assert sent.query == "beta=true"
    assert sent.body == body  # unmapped bodies pass byte for byte
    assert sent.headers["Authorization"] == "Bearer oauth-token"
    assert sent.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert sent.headers["User-Agent"] == "claude-cli/2.0"
    assert "x-ccf-token" not in sent.headers
    assert "x-drop-me" not in sent.headers
    assert sent.headers["Host"] == f"127.0.0.1:{a.port}"


async def test_bearer_auth_replaces_client_credentials_and_maps_globs(
    upstreams, make_proxy
) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(
        f"""
endpoints:
  - name: router
    base_url: "{a.url}"
    auth: bearer
    models: {{"claude-opus-*": big, "claude-haiku-*": small, "*": medium}}
    headers: {{anthropic-beta: null, http-referer: "https://example.org"}}
""",
        keys={"router": "sk-or-123456"},
    )
    headers = {"x-api-key": "client", "authorization": "Bearer client", "anthropic-beta": "x"}
    async with await proxy.post(json=REQUEST, headers=headers) as response:
        assert response.status == 200
    sent = a.received[0]
    assert sent.headers["Authorization"] == "Bearer sk-or-123456"
    assert "x-api-key" not in sent.headers
    assert "anthropic-beta" not in sent.headers
    assert sent.headers["http-referer"] == "https://example.org"
    assert sent.json == {**REQUEST, "model": "small"}
    activity = proxy.runtime.activity[-1]
    assert (activity.model, activity.mapped_model, activity.endpoint) == (
        "claude-haiku-4-5",
        "small",
        "router",
    )


async def test_other_v1_paths_are_proxied(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with proxy.session.get(proxy.url + "/v1/models?limit=5") as response:
        assert response.status == 200
    assert (a.received[0].method, a.received[0].path, a.received[0].query) == (
        "GET",
        "/v1/models",
        "limit=5",
    )


async def test_no_user_agent_is_added_where_the_client_sent_none(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with await proxy.post(
        "/v1/messages", json=REQUEST, skip_auto_headers=["User-Agent"]
    ) as response:
        assert response.status == 200
    assert "User-Agent" not in a.received[0].headers
