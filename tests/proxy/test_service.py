"""The proxy in a background thread, driven as the tray drives it."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from proxy.service import ProxyService
from tests.fakes import FakesInThread


class NoKeys:
    def get(self, name: str) -> str | None:
        return None

    def set(self, name: str, value: str) -> None:
        raise AssertionError("not used")

    def delete(self, name: str) -> None:
        raise AssertionError("not used")


@pytest.fixture
def config_file(tmp_path: Path, threaded_fakes: FakesInThread) -> Path:
    a, b = threaded_fakes.start("a"), threaded_fakes.start("b")
    path = tmp_path / "config.yaml"
    path.write_text(
        "# my providers\n"
        "listen: {port: 0}\n"
        f"endpoints:\n  - {{name: a, base_url: '{a.url}'}}\n  - {{name: b, base_url: '${{B_URL}}'}}\n"
    )
    return path, b.url


@pytest.fixture
def service(config_file):
    path, b_url = config_file
    service = ProxyService(path, {"B_URL": b_url}, NoKeys())
    yield service
    service.stop(grace=0.5)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_start_serves_and_snapshots(service: ProxyService) -> None:
    seen = []
    service.subscribe(seen.append)
    service.start()
    snapshot = service.snapshot()
    assert snapshot.overall == "ok"
    assert snapshot.serving == "a"
    assert get(service.url + "/health")["status"] == "ok"
    assert seen[-1].overall == "ok"
    assert service.settings_url == service.url + "/_ccf/"


def test_pin_and_pause_persist_without_baking_the_environment(
    service: ProxyService, config_file
) -> None:
    path, _ = config_file
    service.start()
    service.pin("b")
    assert service.snapshot().serving == "b"
    service.pause(True)
    assert service.snapshot().overall == "paused"
    data = yaml.safe_load(path.read_text())
    assert data["routing"] == {"pinned": "b", "paused": True}
    assert data["endpoints"][1]["base_url"] == "${B_URL}"
    service.pin(None)
    service.pause(False)
    assert service.snapshot().overall == "ok"


def test_port_in_use_is_a_problem_with_advice_and_restart_recovers(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "config.yaml"
        path.write_text(f"listen: {{port: {port}}}\n")
        service = ProxyService(path, {}, NoKeys())
        service.start()
        snapshot = service.snapshot()
        assert snapshot.overall == "error"
        assert f"Port {port} on 127.0.0.1 is in use" in snapshot.problem
    path.write_text("listen: {port: 0}\n")
    service.restart()
    try:
        assert service.snapshot().overall == "ok"
    finally:
        service.stop(grace=0.5)


def test_a_bad_config_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("endpoints: 5\n")
    service = ProxyService(path, {}, NoKeys())
    service.start()
    snapshot = service.snapshot()
    assert snapshot.overall == "error"
    assert "endpoints" in snapshot.problem
    assert path.read_text() == "endpoints: 5\n"
    service.stop()


def test_stop_is_graceful_and_idempotent(service: ProxyService) -> None:
    service.start()
    url = service.url
    service.stop(grace=0.5)
    assert service.snapshot().overall == "stopped"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/health", timeout=2)
    service.stop()
