"""Real network parts on loopback: an HTTPS provider with a private CA, and tinyproxy."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import trustme
from aiohttp import web

from tests.fakes import FakeUpstream, closed_port


@dataclass
class PrivateCa:
    ca: trustme.CA
    ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        return context


def private_ca(folder: Path) -> PrivateCa:
    ca = trustme.CA()
    ca_file = folder / "private-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return PrivateCa(ca, ca_file)


class HttpsUpstream(FakeUpstream):
    """A `FakeUpstream` that speaks TLS with a certificate from `ca`."""

    def __init__(self, name: str, ca: PrivateCa) -> None:
        super().__init__(name)
        self.ca = ca

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> HttpsUpstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ca.server_context())
        await site.start()
        self.port = int(self.runner.addresses[0][1])
        return self


class TinyProxy:
    """Debian's tinyproxy in the foreground on a loopback port, logging every request."""

    def __init__(self, folder: Path, basic_auth: tuple[str, str] | None = None) -> None:
        self.port = closed_port()
        self.log = folder / "tinyproxy.log"
        self.conf = folder / "tinyproxy.conf"
        self.log.touch(mode=0o666)
        self.conf.write_text(
            f"Port {self.port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\n"
            f'LogFile "{self.log}"\nLogLevel Info\nMaxClients 20\n'
            + (f"BasicAuth {basic_auth[0]} {basic_auth[1]}\n" if basic_auth else "")
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TinyProxy:
        binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        self.process = subprocess.Popen(
            [binary, "-d", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):  # until it accepts connections (or exits)
            if self.process.poll() is not None:
                raise RuntimeError(f"tinyproxy exited: {self.log.read_text()}")
            if _accepts(self.port):
                return self
            await asyncio.sleep(0.025)
        raise RuntimeError("tinyproxy did not start listening in 5 s")

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
