"""The admin API for moving in: the provider's model list, imports, config export/import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

SAMPLES = Path(__file__).parents[1] / "imports" / "samples"


async def test_model_list_of_an_anthropic_format_provider(upstreams, admin_proxy) -> None:
    a = await upstreams("a")
    a.raw(
        200,
        json.dumps(
            {"data": [{"id": "glm-4.6", "type": "model"}, {"id": "glm-4.5-air"}], "has_more": False}
        ).encode(),
    )
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}', auth: x-api-key}}]", keys={"a": "sk-a"}
    )
    data = await proxy.json("GET", "endpoints/a/models")
    assert data == {"models": ["glm-4.5-air", "glm-4.6"]}
    seen = a.received[-1]
    assert (seen.method, seen.path, seen.query) == ("GET", "/v1/models", "limit=1000")
    assert seen.headers["x-api-key"] == "sk-a"
    assert seen.headers["anthropic-version"] == "2023-06-01"


async def test_model_list_of_an_openai_format_provider(upstreams, admin_proxy) -> None:
    b = await upstreams("b")
    b.raw(
        200,
        json.dumps(
            {"object": "list", "data": [{"id": "deepseek-chat", "object": "model"}]}
        ).encode(),
    )
    proxy = await admin_proxy(
        f"endpoints: [{{name: b, base_url: '{b.url}/v1', format: openai, auth: bearer}}]",
        keys={"b": "sk-b"},
    )
    assert (await proxy.json("GET", "endpoints/b/models"))["models"] == ["deepseek-chat"]
    assert b.received[-1].path == "/v1/models"
    assert b.received[-1].headers["authorization"] == "Bearer sk-b"
    assert "anthropic-version" not in b.received[-1].headers


async def test_model_list_errors_say_why(upstreams, admin_proxy) -> None:
    a = await upstreams("a")
    a.status(401)
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}', auth: bearer}}, {{name: c, base_url: '{a.url}'}}]",
        keys={"a": "sk-a"},
    )
    answer = await proxy.json("GET", "endpoints/a/models", status=502)
    assert answer["error"]["message"] == "a answered 401: the key was refused"
    answer = await proxy.json("GET", "endpoints/c/models", status=409)
    assert "Claude Code's own login" in answer["error"]["message"]
    await proxy.json("GET", "endpoints/nope/models", status=404)


async def test_import_from_a_known_place(upstreams, admin_proxy, tmp_path: Path) -> None:
    a = await upstreams("a")
    home = tmp_path / "home"
    (home / ".claude-code-router").mkdir(parents=True)
    ccr = home / ".claude-code-router" / "config.json"
    shutil.copy(SAMPLES / "claude-code-router-config.json", ccr)
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}'}}]", env={"HOME": str(home)}
    )
    sources = (await proxy.json("GET", "import/sources"))["sources"]
    assert [(s["tool"], s["path"]) for s in sources] == [("claude-code-router", str(ccr))]
    assert [p["name"] for p in sources[0]["providers"]] == [
        "openrouter",
        "deepseek",
        "ollama",
        "gemini",
    ]
    assert "sk-or-v1" not in json.dumps(sources)
    await proxy.json("POST", "import", {"path": "/etc/passwd", "pick": ["x"]}, status=400)
    answer = await proxy.json("POST", "import", {"path": str(ccr), "pick": ["openrouter"]})
    assert answer["imported"] == ["openrouter"]
    assert [e.name for e in proxy.runtime.config.endpoints] == ["a", "openrouter"]
    assert proxy.keys.values["openrouter"] == "sk-or-v1-sample-0005"
    assert "sk-or" not in proxy.path.read_text()


async def test_import_is_all_or_nothing(upstreams, admin_proxy, tmp_path: Path) -> None:
    a = await upstreams("a")
    home = tmp_path / "home"
    (home / ".claude-code-router").mkdir(parents=True)
    ccr = home / ".claude-code-router" / "config.json"
    shutil.copy(SAMPLES / "claude-code-router-config.json", ccr)
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}'}}]", env={"HOME": str(home)}
    )
    before = proxy.path.read_text()
    await proxy.json(
        "GET", "import/sources"
    )  # the admin token is read now, not from a broken keyring
    proxy.keys.broken = True
    await proxy.json("POST", "import", {"path": str(ccr), "pick": ["openrouter"]}, status=503)
    assert proxy.path.read_text() == before
    assert [e.name for e in proxy.runtime.config.endpoints] == ["a"]


async def test_config_export_has_no_secrets_and_imports_back(upstreams, admin_proxy) -> None:
    a = await upstreams("a")
    token = "t" * 24
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}', auth: bearer}}]\nsecurity: {{access_token: {token}}}\n",
        keys={"a": "sk-a"},
    )
    exported = await proxy.json("GET", "config/export")
    assert token not in exported["text"]
    assert "sk-a" not in exported["text"]
    assert exported["text"].startswith("# Claude Code Fallback configuration, exported")
    other = yaml.safe_load(exported["text"])
    other["endpoints"].append({"name": "b", "base_url": a.url, "auth": "bearer"})
    answer = await proxy.json("POST", "config/import", {"text": yaml.safe_dump(other)})
    assert answer["need_keys"] == ["a", "b"]
    assert [e.name for e in proxy.runtime.config.endpoints] == ["a", "b"]
    assert yaml.safe_load(proxy.path.read_text())["security"]["access_token"] == token  # kept
    bad = await proxy.json("POST", "config/import", {"text": "endpoints: 5"}, status=400)
    assert "endpoints" in bad["error"]["message"]
