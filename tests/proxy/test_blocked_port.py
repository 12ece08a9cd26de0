"""Port in use at start: the settings page still opens (on a spare port) and fixes it."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from proxy.service import ProxyService
from tests.fakes import FakesInThread
from tests.proxy.admin.admin_helpers import MemoryKeys
from tests.proxy.admin.test_service_admin import api, session_cookie


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_settings_open_while_the_port_is_taken_and_move_the_proxy(
    tmp_path: Path, threaded_fakes: FakesInThread
) -> None:
    a = threaded_fakes.start("a")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "config.yaml"
        path.write_text(
            f"# mine\nlisten: {{port: {port}}}\nendpoints: [{{name: a, base_url: '{a.url}'}}]\n"
        )
        service = ProxyService(path, {}, MemoryKeys())
        service.start()
        try:
            snapshot = service.snapshot()
            assert snapshot.overall == "error"
            assert f"Port {port} on 127.0.0.1 is in use" in snapshot.problem
            assert service.url == f"http://127.0.0.1:{port}"  # what Claude Code should use
            link = service.login_url()
            assert f":{port}/" not in link  # the page is served on a spare port
            page = link.split("/_ccf/")[0]
            cookie = session_cookie(link)
            endpoints = api(page, "GET", "endpoints", cookie)
            assert f"Port {port}" in endpoints["problem"]

            new_port = free_port()
            general = api(page, "GET", "config", cookie)["config"]
            general["listen"]["port"] = new_port
            changed = {k: general[k] for k in ("listen", "failover", "timeouts", "security")}
            answer = api(page, "PUT", "general", cookie, changed)
            assert answer["url"] == f"http://127.0.0.1:{new_port}"
            snapshot = service.snapshot()
            assert snapshot.overall == "ok"
            assert snapshot.problem == ""
            assert service.url == f"http://127.0.0.1:{new_port}"
            assert service.settings_url == f"http://127.0.0.1:{new_port}/_ccf/"
            text = path.read_text()
            assert text.startswith("# mine\n")
            assert yaml.safe_load(text)["listen"]["port"] == new_port
        finally:
            service.stop(grace=0.5)
