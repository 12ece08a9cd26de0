"""Real networks: the system's proxy settings and trust store, and per-endpoint CA files.

`NetConnector` is the upstream session's connector. For each new connection it asks
`ProxyRules` whether the host goes through a proxy (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`,
and on macOS/Windows the system settings, read again every few seconds, never once at
start-up) and verifies TLS against the operating system's trust store (`truststore`), plus
the `ca_file` of the endpoint whose host it is.

Not `trust_env=True`: aiohttp then hops to a thread for the proxy lookup and reads
`~/.netrc` from disk on every request.
"""

from __future__ import annotations

import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import truststore
from yarl import URL

from proxy.core.config import Config

PROXY_REFRESH_SECONDS = 5.0
CA_FILE_HELP = (
    "If your network (a company proxy or antivirus) uses its own certificate authority, "
    "add it to the operating system's trust store, or set ca_file for this endpoint to "
    "that authority's certificate (a PEM file)."
)


class CaFileError(aiohttp.ClientConnectionError):
    """An endpoint's `ca_file` cannot be read or is not a PEM certificate."""


def system_context(ca_files: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A client TLS context that trusts the OS store and `ca_files` as well."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ca_file in ca_files:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise CaFileError(f"cannot use ca_file {ca_file}: {_reason(exc)}") from exc
    return context


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, ssl.SSLError):
        return "not a PEM certificate"
    return str(exc)


def host_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "").lower(), parts.port or default


def ca_files_by_host(config: Config) -> dict[tuple[str, int], tuple[str, ...]]:
    """Which CA files to trust for each endpoint's host and port."""
    found: dict[tuple[str, int], tuple[str, ...]] = {}
    for endpoint in config.endpoints:
        ca_file = getattr(endpoint, "ca_file", None)
        if ca_file:
            key = host_port(endpoint.base_url)
            if ca_file not in found.get(key, ()):
                found[key] = (*found.get(key, ()), ca_file)
    return found


class TrustStore:
    """TLS contexts per host: the system's for most, one with extra CAs where configured.

    Rebuilt when the config object changes; the lookup per connection is a dict get.
    """

    def __init__(self, config: Callable[[], Config] | None = None) -> None:
        self._config = config
        self._seen: Config | None = None
        self._contexts: dict[tuple[str, int], ssl.SSLContext | CaFileError] = {}
        self.default = system_context()

    def context_for(self, host: str, port: int) -> ssl.SSLContext:
        if self._config is not None:
            self._refresh(self._config())
        found = self._contexts.get((host.lower(), port))
        if isinstance(found, CaFileError):
            raise CaFileError(str(found))
        return found or self.default

    def _refresh(self, config: Config) -> None:
        if config is self._seen:
            return
        contexts: dict[tuple[str, int], ssl.SSLContext | CaFileError] = {}
        for key, files in ca_files_by_host(config).items():
            try:
                contexts[key] = system_context(files)
            except CaFileError as exc:
                contexts[key] = exc
        self._contexts, self._seen = contexts, config


@dataclass
class ProxyRules:
    """Which proxy a URL goes through, from `urllib.request.getproxies()`.

    Read again after `refresh` seconds, so a proxy set in the system settings while the
    app runs is used without a restart. `now` is injectable for tests.
    """

    refresh: float = PROXY_REFRESH_SECONDS
    now: Callable[[], float] = time.monotonic
    read: Callable[[], Mapping[str, str]] = urllib.request.getproxies
    bypass: Callable[[str], Any] = urllib.request.proxy_bypass
    _proxies: Mapping[str, str] = field(default_factory=dict)
    _bypassed: dict[str, bool] = field(default_factory=dict)
    _read_at: float | None = None

    def proxy_for(self, url: URL) -> URL | None:
        self._maybe_reread()
        proxy = self._proxies.get(url.scheme)
        if not proxy or self._is_bypassed(url.host or ""):
            return None
        return URL(proxy if "://" in proxy else f"http://{proxy}")

    def _maybe_reread(self) -> None:
        now = self.now()
        if self._read_at is None or now - self._read_at >= self.refresh:
            self._proxies = {k: v for k, v in self.read().items() if k in ("http", "https")}
            self._bypassed = {}
            self._read_at = now

    def _is_bypassed(self, host: str) -> bool:
        known = self._bypassed.get(host)
        if known is None:
            known = self._bypassed[host] = bool(self.bypass(host))
        return known


def split_credentials(proxy: URL) -> tuple[URL, dict[str, str] | None]:
    """`http://user:pass@host:port` as a URL without credentials and the header they make."""
    if proxy.user is None:
        return proxy, None
    value = aiohttp.encode_basic_auth(proxy.user, proxy.password or "")
    return proxy.with_user(None), {"Proxy-Authorization": value}


class NetConnector(aiohttp.TCPConnector):
    """A `TCPConnector` that chooses the proxy and the TLS trust per connection."""

    def __init__(self, trust: TrustStore, proxies: ProxyRules | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trust = trust
        self.proxies = proxies or ProxyRules()

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Any],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> Any:
        if req.proxy is None:
            proxy = self.proxies.proxy_for(req.url)
            if proxy is not None:
                url, headers = split_credentials(proxy)
                req.update_proxy(url, None, headers)
                if headers and not req.is_ssl():  # sent to the proxy with the request itself
                    req.headers.update(headers)
        return await super().connect(req, traces, timeout)

    def _get_ssl_context(self, req: aiohttp.ClientRequest) -> ssl.SSLContext | None:
        if not req.is_ssl() or req.ssl is not True:
            return super()._get_ssl_context(req)
        return self.trust.context_for(req.url.host or "", req.url.port or 443)


def certificate_problem(exc: BaseException) -> str:
    """What was wrong with a server's certificate, from an error or its causes ("" if none)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectorCertificateError):
            cert = seen.certificate_error
            detail = getattr(cert, "verify_message", "") or str(cert)
            return f"the TLS certificate of {seen.host} was refused ({detail}). {CA_FILE_HELP}"
        if isinstance(seen, CaFileError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return ""
