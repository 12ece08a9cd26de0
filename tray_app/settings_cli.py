"""`ccf settings`: open the running instance's settings page, signed in.

The opener proves it is this user with the install's admin token (OS keyring, or a 0600
file where there is none) and trades it for a single-use sign-in link, so the token itself
never appears in a URL, a log or a process list.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Protocol

from proxy import PRODUCT_NAME
from proxy.admin.token import ensure_admin_token
from proxy.config_file import config_path, load_config
from proxy.core.errors import CcfError, SettingsError
from proxy.keys import KeyStore, SystemKeyring
from ui.window import open_settings_window, with_section

Opener = Callable[[Callable[[], str]], object]
TIMEOUT = 5.0


def _local(url: str) -> str:
    """The proxy's base URL, reachable from here (a settings URL or a wildcard host is fine)."""
    for wildcard in ("//0.0.0.0:", "//[::]:"):
        url = url.replace(wildcard, "//127.0.0.1:")
    return url.rstrip("/").removesuffix("/_ccf")


def candidate_urls(config_file: str | None, env: Mapping[str, str]) -> list[str]:
    """Where the running instance may be: the tray's note first, then the config's address."""
    urls = []
    try:
        from tray_app.single_instance import InstanceLock

        info = InstanceLock().read_info()
        if info is not None:
            urls.append(_local(info.url))
    except Exception:  # no note, or no lock module on this platform: use the config
        pass
    try:
        listen = load_config(config_path(config_file, env), env).listen
        host = f"[{listen.host}]" if ":" in listen.host else listen.host
        urls.append(_local(f"http://{host}:{listen.port}"))
    except CcfError:
        pass
    return list(dict.fromkeys(urls))


def is_running(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=TIMEOUT) as response:
            return "status" in json.load(response)
    except (OSError, ValueError):
        return False


def running_url(config_file: str | None, env: Mapping[str, str]) -> str:
    urls = candidate_urls(config_file, env)
    for url in urls:
        if is_running(url):
            return url
    where = " or ".join(urls) or "its configured address"
    raise SettingsError(
        f"{PRODUCT_NAME} is not running (nothing answers at {where}). Start it with "
        "`ccf`, or `ccf serve` without a desktop."
    )


def admin_call(url: str, path: str, token: str, body: object | None = None) -> dict[str, object]:
    """POST to the running instance's admin API with the admin token."""
    request = urllib.request.Request(
        f"{url}/_ccf/api/{path}",
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise SettingsError(
                f"The instance at {url} did not accept this install's admin token; it was "
                "probably started by another user or with another keyring."
            ) from None
        if exc.code == 429:  # sign-in locked out after many wrong tokens or codes
            raise SettingsError(f"The instance at {url} says: {_message(exc)}") from None
        raise SettingsError(f"The instance at {url} answered {exc.code} to {path}.") from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"Could not reach the instance at {url}: {exc}") from None
    return data if isinstance(data, dict) else {}


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error)["error"]["message"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{error.code} {error.reason}"


def login_link_source(url: str, store: KeyStore) -> Callable[[], str]:
    """A function that returns a fresh single-use sign-in link for the instance at `url`."""
    token = ensure_admin_token(store)

    def new_link() -> str:
        return str(admin_call(url, "login-codes", token)["url"])

    return new_link


def open_settings_at(url: str, store: KeyStore, opener: Opener = open_settings_window) -> object:
    """Open the settings of the instance at `url` (e.g. from a second launch's hand-over)."""
    return opener(login_link_source(_local(url), store))


def open_settings_for_running_instance(
    config_file: str | None,
    env: Mapping[str, str],
    store: KeyStore | None = None,
    opener: Opener = open_settings_window,
) -> int:
    """`ccf settings`: the exit code (0 opened, 1 with a message on stderr)."""
    try:
        url = running_url(config_file, env)
        handle = open_settings_at(url, store or SystemKeyring(), opener)
    except CcfError as exc:
        print(f"ccf: {exc}", file=sys.stderr)
        return 1
    print(f"Opened the settings of {url}")
    join = getattr(handle, "join", None)
    if callable(join):
        join()  # the window's process: `ccf settings` returns when it is closed
    return 0


class SignsIn(Protocol):
    def login_url(self) -> str: ...


def open_settings_for_service(
    service: SignsIn, section: str = "", opener: Opener = open_settings_window
) -> object:
    """The tray's Settings… item: a window signed in to its own, in-process proxy
    (`proxy.service.ProxyService.login_url` makes the links without any token), at
    `section` of the page ("" for the page's own choice)."""
    return opener(lambda: with_section(service.login_url(), section))
