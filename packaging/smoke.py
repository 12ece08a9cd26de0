"""Smoke test of a frozen `ccf`: the checks `build.py` runs after every build.

1. `ccf --version` prints `ccf <version>`.
2. `ccf serve --port 0` against a local fake upstream whose primary answers 529 and whose
   backup streams an Anthropic SSE response: a streamed POST /v1/messages must come back
   200 with `x-ccf-attempts: primary=529, backup=200` and the whole stream, byte for byte,
   and must really stream (the fake holds the tail until the client has read the head).
3. Cold start: launch to `/health` answering 200, a few times.

Usable on its own: `python packaging/smoke.py PATH/TO/ccf`. Needs aiohttp (the build
environment has it); never imports the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from proxy.core.errors import SmokeError

LISTENING = re.compile(rb"listening on (http://\S+)")
CLIENT_KEY = "smoke-client-key"
BACKUP_KEY = "smoke-backup-key-0123456789"
BACKUP_KEY_VAR = "CCF_SMOKE_BACKUP_KEY"
BACKUP_MODEL = "smoke/backup-model"
TEXT_PARTS = ["Hel", "lo from ", "the backup", "!"]
START_TIMEOUT = 30.0
STREAM_GATE_TIMEOUT = 10.0


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeError(message)


# ---------------------------------------------------------------- the fake upstream


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(model: str) -> list[bytes]:
    """A complete Anthropic message stream, one element per event."""
    message: dict[str, Any] = {
        "id": "msg_smoke",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 1},
    }
    block = {"type": "text", "text": ""}
    deltas = [
        sse(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
        )
        for t in TEXT_PARTS
    ]
    return [
        sse("message_start", {"type": "message_start", "message": message}),
        sse("ping", {"type": "ping"}),
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        ),
        *deltas,
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(TEXT_PARTS)},
            },
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]


HEAD_EVENTS = 4  # message_start, ping, content_block_start, the first delta


@dataclass
class Seen:
    path: str
    headers: Mapping[str, str]
    body: dict[str, Any]


@dataclass
class FakeUpstream:
    """`/primary/...` answers 529 (overloaded); `/backup/...` streams `stream_events`."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    head_read: asyncio.Event = field(default_factory=asyncio.Event)
    held_until_read: bool = False
    sent: bytes = b""

    async def primary(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return web.json_response(error, status=529)

    async def backup(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        events = stream_events(str(body.get("model")))
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in events[:HEAD_EVENTS]:
            await response.write(event)
        try:  # a proxy that buffered the stream would never let the client read the head
            await asyncio.wait_for(self.head_read.wait(), STREAM_GATE_TIMEOUT)
            self.held_until_read = True
        except TimeoutError:
            self.held_until_read = False
        for event in events[HEAD_EVENTS:]:
            await response.write(event)
        await response.write_eof()
        self.sent = b"".join(events)
        return response

    async def _record(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(await request.read())
        self.seen.append(Seen(request.path, dict(request.headers), body))
        return body


@asynccontextmanager
async def running_fake() -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    app = web.Application()
    app.router.add_post("/primary/v1/messages", fake.primary)
    app.router.add_post("/backup/v1/messages", fake.backup)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def config_yaml(upstream_url: str) -> str:
    return f"""\
listen: {{host: 127.0.0.1, port: 0}}
endpoints:
  - name: primary
    base_url: {upstream_url}/primary
    auth: client
  - name: backup
    base_url: {upstream_url}/backup
    auth: x-api-key
    key: env:{BACKUP_KEY_VAR}
    models:
      "*": {BACKUP_MODEL}
"""


# ---------------------------------------------------------------- the frozen binary


def isolated_env(home: Path) -> dict[str, str]:
    """A private HOME and config/log dirs; no OS keyring (the admin token goes to a file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCF_", "XDG_"))}
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONUNBUFFERED="1",
    )
    env[BACKUP_KEY_VAR] = BACKUP_KEY
    return env


def check_version(binary: Path, version: str) -> str:
    result = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    out = (result.stdout + result.stderr).strip()
    check(result.returncode == 0, f"`{binary.name} --version` exited {result.returncode}: {out}")
    check(
        out == f"ccf {version}", f"`{binary.name} --version` printed {out!r}, not 'ccf {version}'"
    )
    return out


@dataclass
class Serving:
    process: asyncio.subprocess.Process
    url: str
    listening_after: float
    healthy_after: float


async def start_serve(binary: Path, config: Path, env: Mapping[str, str], log: Path) -> Serving:
    started = time.perf_counter()
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(binary),
            "serve",
            "--config",
            str(config),
            "--port",
            "0",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(env),
        )
    try:
        url = await asyncio.wait_for(read_url(process), START_TIMEOUT)
        listening_after = time.perf_counter() - started
        await asyncio.wait_for(wait_healthy(url), START_TIMEOUT)
    except BaseException:
        await stop(process)
        raise
    return Serving(process, url, listening_after, time.perf_counter() - started)


async def read_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        match = LISTENING.search(line)
        if match:
            return match.group(1).decode()
    raise SmokeError(f"`ccf serve` exited ({await process.wait()}) without saying where it listens")


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{url}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.01)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


# ---------------------------------------------------------------- the request through it


async def streamed_request(url: str, fake: FakeUpstream) -> dict[str, Any]:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello"}],
    }
    headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    chunks = 0
    received = b""
    head_marker = json.dumps(TEXT_PARTS[0]).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/v1/messages", json=body, headers=headers) as response,
    ):
        status, response_headers = response.status, response.headers
        async for chunk in response.content.iter_any():
            chunks += 1
            received += chunk
            if head_marker in received:
                fake.head_read.set()
    return {
        "status": status,
        "content_type": response_headers.get("content-type", ""),
        "attempts": response_headers.get("x-ccf-attempts", ""),
        "endpoint": response_headers.get("x-ccf-endpoint", ""),
        "chunks": chunks,
        "body": received,
    }


def check_request(result: dict[str, Any], fake: FakeUpstream) -> None:
    check(result["status"] == 200, f"status {result['status']}, wanted 200: {result['body']!r}")
    check(
        result["attempts"] == "primary=529, backup=200",
        f"x-ccf-attempts is {result['attempts']!r}, wanted 'primary=529, backup=200'",
    )
    check(result["endpoint"] == "backup", f"x-ccf-endpoint is {result['endpoint']!r}")
    check(
        result["content_type"].startswith("text/event-stream"),
        f"content-type is {result['content_type']!r}",
    )
    check(
        result["body"] == fake.sent,
        f"the stream differs from what the backup sent: {result['body']!r}",
    )
    check(fake.held_until_read, "the proxy did not stream: the client saw nothing before the end")
    paths = [seen.path for seen in fake.seen]
    check(
        paths == ["/primary/v1/messages", "/backup/v1/messages"],
        f"the upstream saw {paths}, wanted the primary then the backup",
    )
    primary, backup = fake.seen
    check(
        primary.headers.get("x-api-key") == CLIENT_KEY, "the primary did not get the client's key"
    )
    check(backup.headers.get("x-api-key") == BACKUP_KEY, "the backup did not get its own key")
    check(
        backup.body.get("model") == BACKUP_MODEL,
        f"the backup got model {backup.body.get('model')!r}",
    )


# ---------------------------------------------------------------- all of it


async def smoke_serve(binary: Path, work: Path, starts: int) -> dict[str, Any]:
    env = isolated_env(work / "home")
    log = work / "ccf-serve.log"
    cold_starts: list[float] = []
    async with running_fake() as fake:
        config = work / "config.yaml"
        config.write_text(config_yaml(fake.url), encoding="utf-8")
        serving = await start_serve(binary, config, env, log)
        cold_starts.append(serving.healthy_after)
        try:
            result = await streamed_request(serving.url, fake)
        finally:
            await stop(serving.process)
        check_request(result, fake)
        for _ in range(starts - 1):
            again = await start_serve(binary, config, env, log)
            cold_starts.append(again.healthy_after)
            await stop(again.process)
    return {
        "request": {k: v for k, v in result.items() if k != "body"}
        | {"bytes": len(result["body"])},
        "cold_start_seconds": [round(s, 3) for s in cold_starts],
        "cold_start_median_seconds": round(statistics.median(cold_starts), 3),
    }


def run_smoke(binary: Path, version: str, starts: int = 5) -> dict[str, Any]:
    """All checks; raises SmokeError (with the serve log attached) on the first failure."""
    check(binary.is_file(), f"{binary} is not there")
    report: dict[str, Any] = {"binary": str(binary), "version": check_version(binary, version)}
    with tempfile.TemporaryDirectory(prefix="ccf-smoke-") as tmp:
        work = Path(tmp)
        try:
            report |= asyncio.run(smoke_serve(binary, work, starts))
        except (SmokeError, TimeoutError, OSError, aiohttp.ClientError) as exc:
            log = work / "ccf-serve.log"
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
            raise SmokeError(
                f"{type(exc).__name__}: {exc}\n--- ccf serve stderr ---\n{tail}"
            ) from exc
    return report


def read_version(root: Path) -> str:
    text = (root / "proxy" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise SmokeError("no __version__ in proxy/__init__.py")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", type=Path, help="the frozen ccf executable")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    args = parser.parse_args(argv)
    try:
        report = run_smoke(
            args.binary, read_version(Path(__file__).resolve().parent.parent), args.starts
        )
    except SmokeError as exc:
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
