"""The tray's service: signing the settings window in, and moving to another port."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from proxy.service import ProxyService
from tests.fakes import FakesInThread
from tests.proxy.admin.admin_helpers import MemoryKeys


@pytest.fixture
def service(tmp_path: Path, threaded_fakes: FakesInThread):
    a = threaded_fakes.start("a")
    path = tmp_path / "config.yaml"
    path.write_text(f"listen: {{port: 0}}\nendpoints: [{{name: a, base_url: '{a.url}'}}]\n")
    service = ProxyService(path, {}, MemoryKeys())
    yield service
    service.stop(grace=0.5)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(link: str) -> str:
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(link, timeout=5)
    cookie = redirect.value.headers["Set-Cookie"].split(";")[0]
    redirect.value.close()
    return cookie


def api(url: str, method: str, path: str, cookie: str, body: object = None) -> dict:
    request = urllib.request.Request(
        f"{url}/_ccf/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Cookie": cookie, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_login_url_signs_in_and_a_port_change_moves_the_service(service: ProxyService) -> None:
    with pytest.raises(Exception, match="not running"):
        service.login_url()
    service.start()
    link = service.login_url()
    assert link.startswith(f"{service.url}/_ccf/login?code=")
    cookie = session_cookie(link)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = api(
        service.url, "PUT", "general", cookie, {"listen": {"host": "127.0.0.1", "port": port}}
    )
    assert data["url"] == f"http://127.0.0.1:{port}"
    assert service.url == data["url"]
    assert service.settings_url == f"{data['url']}/_ccf/"
    assert api(service.url, "GET", "config", cookie)["config"]["listen"]["port"] == port
