"""The `ccf` command as a user runs it: serve, config path/validate, bad input, port in use."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.proxy.core.test_config_yaml import ALIAS_BOMB
from tests.serve import ccf_serve, run_ccf

pytestmark = pytest.mark.slow


@pytest.fixture
def fake_pair(threaded_fakes) -> tuple[str, str]:
    primary, backup = threaded_fakes.start("primary"), threaded_fakes.start("backup")
    primary.status(529)
    return primary.url, backup.url


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_version() -> None:
    result = run_ccf("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("ccf 0.")


def test_config_path_follows_ccf_config(tmp_path: Path) -> None:
    result = run_ccf(
        "config", "path", env={"CCF_CONFIG": str(tmp_path / "x.yaml"), "PATH": "/usr/bin"}
    )
    assert result.stdout.strip() == str(tmp_path / "x.yaml")


def test_config_validate_names_line_path_value_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "endpoints:\n  - name: a\n    base_url: https://x\n    auth: token\n")
    result = run_ccf("--config", str(path), "config", "validate")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ccf: {path} line 4: endpoints[0].auth: 'token' is not allowed; "
        "use one of client, x-api-key, bearer"
    )


def test_config_validate_accepts_the_missing_file_as_default(tmp_path: Path) -> None:
    result = run_ccf("--config", str(tmp_path / "none.yaml"), "config", "validate")
    assert result.returncode == 0
    assert "built-in default" in result.stdout
    assert "anthropic" in result.stdout


def test_serve_exits_2_with_one_line_on_bad_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "endpoints: [\n  {name: a,\n")
    result = run_ccf("serve", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "not valid YAML" in lines[0]
    assert path.read_text() == "endpoints: [\n  {name: a,\n"


def test_serve_exits_2_when_the_port_is_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ccf("serve", "--config", str(tmp_path / "none.yaml"), "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ccf: Port {port} on 127.0.0.1 is in use by another program. Stop that program, or choose "
        "another port (ccf serve --port N, CCF_PORT, or Settings → General)."
    )


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = run_ccf("serve", "--config", str(tmp_path / "none.yaml"), "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "security.access_token" in result.stderr
    assert result.stderr.startswith("ccf: --host: '0.0.0.0' is reachable")


def test_a_bad_port_flag_is_blamed_on_the_flag_not_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "listen: {port: 8765}\nendpoints: [{name: a, base_url: 'http://a'}]\n")
    result = run_ccf("serve", "--config", str(path), "--port", "99999")
    assert result.returncode == 2
    assert result.stderr == (
        "ccf: --port: 99999 is not allowed; use a port from 1 to 65535 (0: any free port)\n"
    )


@pytest.mark.parametrize("where", ["fifo", "/dev/zero", "alias bomb"])
def test_config_validate_refuses_hostile_files_at_once(tmp_path: Path, where: str) -> None:
    path = tmp_path / "config.yaml"
    if where == "fifo":
        os.mkfifo(path)
    elif where == "alias bomb":
        path.write_text(ALIAS_BOMB)
    else:
        path = Path(where)
    result = run_ccf("--config", str(path), "config", "validate", timeout=20)
    assert result.returncode == 2
    assert "line 5: aliases" in result.stderr or "not a regular file" in result.stderr


def test_serve_proxies_and_fails_over(tmp_path: Path, fake_pair: tuple[str, str]) -> None:
    a_url, b_url = fake_pair
    path = write(
        tmp_path,
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{a_url}'}}\n"
        f"  - {{name: backup, base_url: '{b_url}', auth: bearer, key: 'env:BACKUP_KEY'}}\n",
    )
    env = {**os.environ, "BACKUP_KEY": "sk-backup-0001"}
    with ccf_serve(path, env=env) as url:
        status, headers, body = post(url, {"model": "m", "max_tokens": 5, "messages": []})
        with urllib.request.urlopen(url + "/health", timeout=5) as response:
            health = json.load(response)
    assert status == 200
    assert headers["x-ccf-attempts"] == "primary=529, backup=200"
    assert json.loads(body)["content"][0]["text"] == "Hello from backup"
    assert health["status"] == "degraded"
