"""`ccf serve` as a real subprocess, for tests that meet the proxy as a user does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

CCF = [sys.executable, "-m", "tray_app"]
LISTENING = re.compile(r"listening on (http://\S+)")


def run_ccf(
    *args: str, env: dict[str, str] | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CCF, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
        check=False,
    )


@contextmanager
def ccf_serve(config: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `ccf serve` on a free port; yield its URL once it listens; stop it with SIGTERM."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*CCF, "serve", "--config", str(config), "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env or dict(os.environ),
        )
        try:
            yield wait_for_url(process, log)
        finally:
            stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


def wait_for_url(process: subprocess.Popen[str], log: IO[str], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if match := LISTENING.search(line):
            return match.group(1)
    log.seek(0)
    raise AssertionError("ccf serve did not start:\n" + "".join(seen) + log.read())
