"""Keys and the admin token through the real Secret Service (gnome-keyring, unlocked)."""

from __future__ import annotations

import argparse
import io
import os
import stat
import urllib.request
from pathlib import Path

import keyring
import pytest

from proxy.admin.token import ADMIN_ACCOUNT, ensure_admin_token, read_admin_token
from proxy.keys import SystemKeyring
from tests.fakes import FakesInThread
from tests.proxy.admin.admin_helpers import MemoryKeys
from tests.serve import ccf_serve
from tray_app.keys_cli import add_key_commands, run_key_command
from tray_app.settings_cli import open_settings_for_running_instance

SERVICE = "claude-code-fallback"


@pytest.fixture
def store():
    store = SystemKeyring()
    yield store
    for name in ("kr-one", "kr-two", ADMIN_ACCOUNT):
        store.delete(name)


def key_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ccf")
    parser.add_argument("--config")
    add_key_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


@pytest.mark.keyring
def test_the_admin_token_lives_in_the_keyring(store: SystemKeyring, tmp_path: Path) -> None:
    token = ensure_admin_token(store, tmp_path / "admin-token")
    assert len(token) >= 40
    assert keyring.get_password(SERVICE, ADMIN_ACCOUNT) == token
    assert ensure_admin_token(store) == token == read_admin_token(store)
    assert not (tmp_path / "admin-token").exists()


def test_without_a_keyring_the_admin_token_is_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "admin-token"
    token = ensure_admin_token(MemoryKeys(broken=True), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_admin_token(MemoryKeys(broken=True), path) == token
    assert ensure_admin_token(MemoryKeys(broken=True), path) == token


@pytest.mark.keyring
async def test_admin_api_keys_and_renames_go_to_the_keyring(
    upstreams, tmp_path, clock, store
) -> None:
    import aiohttp

    from proxy.config_file import load_config
    from proxy.running import ProxySetup, start_proxy

    a = await upstreams("a")
    path = tmp_path / "config.yaml"
    path.write_text(
        f"listen: {{port: 0}}\nendpoints: [{{name: kr-one, base_url: '{a.url}', auth: bearer}}]\n"
    )
    token = ensure_admin_token(store)
    setup = ProxySetup(path, {}, store, clock, grace=0.5)
    server = await start_proxy(setup, load_config(path, {}))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            api = f"{server.url}/_ccf/api"
            async with session.put(f"{api}/keys/kr-one", json={"key": "sk-real-keyring-1111"}) as r:
                assert r.status == 200
            assert keyring.get_password(SERVICE, "kr-one") == "sk-real-keyring-1111"
            body = {"name": "kr-two", "base_url": a.url, "auth": "bearer"}
            async with session.put(f"{api}/endpoints/kr-one", json=body) as r:
                assert r.status == 200
                assert (await r.json())["keys"]["kr-two"]["last4"] == "1111"
            assert keyring.get_password(SERVICE, "kr-two") == "sk-real-keyring-1111"
            assert keyring.get_password(SERVICE, "kr-one") is None
            async with session.post(
                f"{server.url}/v1/messages", json={"model": "m", "max_tokens": 1}
            ) as r:
                assert r.status == 200
            assert a.received[-1].headers["authorization"] == "Bearer sk-real-keyring-1111"
    finally:
        await server.stop()


@pytest.mark.keyring
def test_ccf_key_set_list_delete(store: SystemKeyring, tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        "  - {name: anthropic, base_url: 'https://api.anthropic.com'}\n"
        "  - {name: kr-one, base_url: 'https://one.example', auth: bearer}\n"
        "  - {name: other, base_url: 'https://o.example', auth: bearer, key: 'env:OTHER_KEY'}\n"
    )
    env = {"CCF_CONFIG": str(config)}
    assert (
        run_key_command(key_args("key", "set", "kr-one"), env, stdin=io.StringIO("sk-piped-4321\n"))
        == 0
    )
    assert keyring.get_password(SERVICE, "kr-one") == "sk-piped-4321"
    assert "ends in 4321" in capsys.readouterr().out
    assert run_key_command(key_args("key", "list"), env) == 0
    listing = capsys.readouterr().out
    assert "kr-one" in listing
    assert "ends in 4321" in listing
    assert "sk-piped" not in listing
    assert "from $OTHER_KEY (NOT SET)" in listing
    assert run_key_command(key_args("key", "delete", "kr-one"), env) == 0
    assert keyring.get_password(SERVICE, "kr-one") is None
    assert run_key_command(key_args("key", "set", "kr-one"), env, stdin=io.StringIO("")) == 1
    assert run_key_command(key_args("key", "set", "../x"), env) == 2


def test_ccf_key_without_a_keyring_names_the_alternative(tmp_path: Path, capsys) -> None:
    env = {"CCF_CONFIG": str(tmp_path / "none.yaml")}
    code = run_key_command(
        key_args("key", "set", "kr-one"), env, MemoryKeys(broken=True), io.StringIO("sk-x-1234\n")
    )
    assert code == 1
    assert "env:VAR_NAME" in capsys.readouterr().err


@pytest.mark.keyring
@pytest.mark.slow
def test_ccf_settings_signs_in_to_the_running_instance(
    store: SystemKeyring, tmp_path: Path
) -> None:
    fakes = FakesInThread()
    try:
        a = fakes.start("a")
        config = tmp_path / "config.yaml"
        config.write_text(f"endpoints: [{{name: a, base_url: '{a.url}'}}]\n")
        env = {**os.environ, "CCF_CONFIG": str(config)}
        with ccf_serve(config, env=env) as url:
            env["CCF_PORT"] = url.rpartition(":")[2]
            opened: list[str] = []
            assert (
                open_settings_for_running_instance(
                    None, env, store, lambda link: opened.append(link())
                )
                == 0
            )
            assert opened[0].startswith(f"{url}/_ccf/login?code=")
            opener = urllib.request.build_opener(NoRedirect)
            with pytest.raises(urllib.error.HTTPError) as redirect:
                opener.open(opened[0], timeout=5)
            assert redirect.value.code == 303
            assert "HttpOnly" in redirect.value.headers["Set-Cookie"]
            redirect.value.close()
    finally:
        fakes.close()


def test_ccf_settings_says_when_nothing_runs(tmp_path: Path, capsys) -> None:
    env = {"CCF_CONFIG": str(tmp_path / "c.yaml"), "CCF_PORT": "1"}
    assert open_settings_for_running_instance(None, env, MemoryKeys(), lambda link: None) == 1
    assert "not running" in capsys.readouterr().err


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
