"""Marker keys go in through the real paths (the keyring via the admin API, `env:VAR`, a
`${VAR}` access token); a representative run follows; then no marker may appear in any log
file, admin response, /metrics, /health, stdout/stderr, the config file or anything else
written under the test HOME."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from proxy.admin.token import ensure_admin_token
from proxy.keys import SystemKeyring
from tests.fakes import FakesInThread, stream_events
from tests.polling import wait_for
from tests.serve import CCF, stop, wait_for_url

MARKERS = {
    "keyring": "sk-MARKERkeyring-7f3a9c0d2e4b",
    "env": "sk-MARKERenv-51b2e0aa97c3",
    "token": "tok-MARKERaccess-93d1c4e8f0a2b6",
}
STREAM = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


class Recorder:
    """Every request made and every answer seen, kept for the final search."""

    def __init__(self, url: str, admin_token: str) -> None:
        self.url = url
        self.admin = admin_token
        self.seen: list[tuple[str, bytes]] = []

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, got, head = response.status, response.read(), str(response.headers)
        except urllib.error.HTTPError as error:
            status, got, head = error.code, error.read(), str(error.headers)
        self.seen += [(path, head.encode()), (path, got)]
        return status, got

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        if method != "GET" and body is None:
            body = {}
        auth = {"Authorization": f"Bearer {self.admin}"}
        return self.call(method, f"/_ccf/api/{path}", body, auth)

    def proxied(self, body: dict[str, Any]) -> tuple[int, bytes]:
        return self.call("POST", "/v1/messages", body, {"x-ccf-token": MARKERS["token"]})


def config_text(a: str, b: str) -> str:
    return (
        "listen: {port: 0}\n"
        "endpoints:\n"
        f"  - {{name: kr, base_url: '{a}', auth: bearer, key: keyring}}\n"
        f"  - {{name: ev, base_url: '{b}', auth: x-api-key, key: 'env:MARKER_KEY'}}\n"
        "security: {access_token: '${ACCESS_TOKEN}'}\n"
        "failover: {cooldown_seconds: 0}\n"
    )


def scenarios(rec: Recorder, a, b, path: Path) -> None:
    assert rec.api("PUT", "keys/kr", {"key": MARKERS["keyring"]})[0] == 200
    assert rec.proxied(STREAM)[0] == 200  # kr serves, with the keyring key
    a.status(401)
    assert rec.proxied(STREAM)[0] == 200  # kr refuses the key; ev serves with the env key
    a.status(429, headers={"retry-after": "0"})
    b.status(529)
    rec.proxied({**STREAM, "stream": False})  # everything fails
    a.reset()
    rec.proxied(STREAM)
    a.stream(stream_events(["x"])[:4], then="reset")  # broken after commit
    b.ok()
    rec.proxied(STREAM)
    a.ok()
    rec.call("POST", "/v1/messages", STREAM, {"x-ccf-token": "wrong"})
    for read in ("config", "endpoints", "activity", "claude-code"):
        assert rec.api("GET", read)[0] == 200
    rec.api("POST", "endpoints/kr/test")
    rec.api("POST", "endpoints/ev/test")
    rec.api("PUT", "general", {"failover": {"cooldown_seconds": 1}})
    rec.api("PUT", "keys/kr", {"key": MARKERS["keyring"] + "\r\nX: y"})  # refused
    rec.api("PUT", "keys/ev", {"key": MARKERS["env"]})  # refused: not a keyring endpoint
    rec.api("POST", "keys/reload")
    rec.api("PUT", "routing", {"paused": True})
    rec.api("PUT", "routing", {"paused": False})
    good = path.read_text()
    path.write_text("endpoints: [\n")  # the watcher reports it
    token = {"x-ccf-token": MARKERS["token"]}
    wait_for(lambda: b"not valid YAML" in rec.call("GET", "/health", None, token)[1], 15, "it")
    path.write_text(good)
    rec.call("GET", "/metrics")
    rec.call("GET", "/health")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def markers_in(data: bytes) -> list[str]:
    return [kind for kind, marker in MARKERS.items() if marker.encode() in data]


@pytest.mark.slow
@pytest.mark.keyring
@pytest.mark.timeout(90)
def test_no_marker_key_appears_anywhere(tmp_path: Path, threaded_fakes: FakesInThread) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MARKER_KEY": MARKERS["env"],
        "ACCESS_TOKEN": MARKERS["token"],
    }
    a, b = threaded_fakes.start("a"), threaded_fakes.start("b")
    path = home / ".config" / "claude-code-fallback" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(config_text(a.url, b.url))
    admin_token = ensure_admin_token(SystemKeyring())
    with tempfile.TemporaryFile("w+", dir=tmp_path) as stderr:
        process = subprocess.Popen(
            [*CCF, "serve", "--config", str(path), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
        try:
            rec = Recorder(wait_for_url(process, stderr), admin_token)
            scenarios(rec, a, b, path)
        finally:
            stop(process)
        stderr.seek(0)
        rec.seen.append(("stderr", stderr.read().encode()))
    with contextlib.suppress(Exception):
        SystemKeyring().delete("kr")
    received = [
        r.headers.get("authorization", "") + r.headers.get("x-api-key", "")
        for r in a.received + b.received
    ]
    assert any(MARKERS["keyring"] in h for h in received), "the keyring key was never used"
    assert any(MARKERS["env"] in h for h in received), "the env key was never used"
    logs = [p for p in files_under(home) if "log" in str(p).lower()]
    assert logs, "no log file was written"
    leaks = {str(p): markers_in(p.read_bytes()) for p in files_under(home)}
    leaks = {where: kinds for where, kinds in leaks.items() if kinds}
    for path, seen in rec.seen:
        kinds = markers_in(seen)
        if path == "/_ccf/api/claude-code":  # the setup snippets carry the access token
            kinds = [k for k in kinds if k != "token"]  # to paste into Claude Code, by design
        if kinds:
            leaks[path] = kinds
    assert leaks == {}
    assert len(rec.seen) > 40
