"""Large upstream answers pass through `ccf serve` without being held whole (issue #14, item 6).

A real `ccf serve` subprocess and a fake provider in a thread of this process: the peak
resident memory (`VmHWM`) of the proxy's process is what is measured.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.fakes import FakesInThread, FakeUpstream
from tests.serve import CCF, stop, wait_for_url

MiB = 1024 * 1024
ANSWER_MIB = 200
PEAK_LIMIT_MIB = 150
REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "x"}],
}


def huge_answer(status: int, mib: int = ANSWER_MIB):  # type: ignore[no-untyped-def]
    """A provider that answers `mib` MiB of JSON, written a MiB at a time."""
    head = b'{"type":"message","content":[{"type":"text","text":"'
    tail = b'"}],"usage":{"input_tokens":3,"output_tokens":4}}'

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"content-type": "application/json"})
        await response.prepare(request)
        await response.write(head)
        for _ in range(mib):
            await response.write(b"x" * MiB)
        await response.write(tail)
        await response.write_eof()
        return response

    return answer


@contextmanager
def serving(config: Path) -> Iterator[tuple[str, int]]:
    """`ccf serve` on a free port: its URL and process id."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*CCF, "serve", "--config", str(config), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
        try:
            yield wait_for_url(process, log), process.pid
        finally:
            stop(process)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def write_config(tmp_path: Path, *fakes: FakeUpstream) -> Path:
    rows = "".join(f'  - {{name: {f.name}, base_url: "{f.url}"}}\n' for f in fakes)
    path = tmp_path / "config.yaml"
    path.write_text("endpoints:\n" + rows)
    return path


async def relay(url: str) -> tuple[int, int, dict[str, str], bytes]:
    """Status, body size, headers and the body's last bytes, read as it arrives."""
    size, tail = 0, b""
    timeout = aiohttp.ClientTimeout(total=50)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url + "/v1/messages", json=REQUEST) as response,
    ):
        async for chunk in response.content.iter_chunked(MiB):
            size += len(chunk)
            tail = (tail + chunk)[-200:]
        return response.status, size, dict(response.headers), tail


@pytest.fixture
def fakes() -> Iterator[FakesInThread]:
    threaded = FakesInThread()
    yield threaded
    threaded.close()


@pytest.mark.timeout(120)
async def test_a_200_mib_answer_is_relayed_under_150_mib_of_proxy_memory(
    tmp_path: Path, fakes: FakesInThread
) -> None:
    big = fakes.start("big")
    big.behaviour = huge_answer(200)
    with serving(write_config(tmp_path, big)) as (url, pid):
        status, size, headers, tail = await relay(url)
        peak = peak_rss_mib(pid)
    print(f"\npeak RSS of ccf serve relaying {ANSWER_MIB} MiB of JSON: {peak:.0f} MiB")
    assert status == 200
    assert size > ANSWER_MIB * MiB
    assert headers["x-ccf-endpoint"] == "big"
    assert tail.endswith(b'"output_tokens":4}}')
    assert peak < PEAK_LIMIT_MIB


@pytest.mark.timeout(120)
async def test_a_529_with_a_200_mib_body_fails_over_without_reading_it_all(
    tmp_path: Path, fakes: FakesInThread
) -> None:
    big, backup = fakes.start("big"), fakes.start("backup")
    big.behaviour = huge_answer(529)
    with serving(write_config(tmp_path, big, backup)) as (url, pid):
        status, _, headers, _ = await relay(url)
        peak = peak_rss_mib(pid)
    print(f"\npeak RSS of ccf serve failing over from a {ANSWER_MIB} MiB 529: {peak:.0f} MiB")
    assert status == 200
    assert headers["x-ccf-attempts"] == "big=529, backup=200"
    assert peak < PEAK_LIMIT_MIB
