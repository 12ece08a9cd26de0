"""A ledger that cannot be written never costs a request: read-only, locked, corrupt, full."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes import FakesInThread
from tests.proxy.ledger.usage_helpers import (
    get,
    ledger_file,
    rows,
    send,
    serve_env,
    wait_for_rows,
    write_config,
)
from tests.serve import ccf_serve

pytestmark = pytest.mark.slow
DROPPED = re.compile(r'ccf_usage_rows_dropped_total\{reason="write_failed"\} (\d+)')


@pytest.fixture
def config(tmp_path: Path, threaded_fakes: FakesInThread) -> Path:
    a, b, o = (threaded_fakes.start(name) for name in ("a", "b", "o"))
    return write_config(tmp_path / "config.yaml", a, b, o)


@contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def dropped(url: str) -> int:
    match = DROPPED.search(get(f"{url}/metrics"))
    assert match is not None
    return int(match.group(1))


def warning(url: str, env: dict[str, str]) -> str:
    from proxy.admin.token import ensure_admin_token
    from proxy.keys import SystemKeyring

    token = ensure_admin_token(SystemKeyring())
    headers = {"Authorization": f"Bearer {token}"}
    return str(json.loads(get(f"{url}/_ccf/api/usage/summary", headers))["warning"])


def until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def ok(url: str, n: int = 5) -> None:
    for _ in range(n):
        assert send(url, "ok", False, "s") == 200


def immutable(path: Path, on: bool) -> None:
    """chattr ±i on the ledger and its WAL: writes are refused even to root, even through
    open files. (Not the -shm: SQLite maps it, and a refused mapped write is a SIGBUS.)"""
    for suffix in ("", "-wal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            subprocess.run(["chattr", "+i" if on else "-i", str(file)], check=True)


def test_a_ledger_made_read_only_drops_rows_and_says_so(config: Path, tmp_path: Path) -> None:
    env = serve_env(tmp_path / "data")  # on the disk: tmpfs ignores chattr for open files
    path = ledger_file(tmp_path / "data")
    with ccf_serve(config, env=env) as url:
        ok(url, 2)
        wait_for_rows(path, 2)
        immutable(path, True)
        try:
            until(lambda: (ok(url, 1), dropped(url) > 0)[1])
            said = warning(url, env)  # SQLite reports EPERM either way
            assert "read-only" in said or "cannot be written" in said
        finally:
            immutable(path, False)
        until(lambda: (ok(url, 1), warning(url, env) == "")[1])
    assert len(rows(path)) >= 3


def test_a_ledger_on_a_read_only_volume_drops_rows_and_says_so(
    config: Path, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "data") as data:
        env = serve_env(data)
        path = ledger_file(data)
        with ccf_serve(config, env=env) as url:
            ok(url, 1)
            wait_for_rows(path, 1)
        remount(data, "ro")
        try:
            with ccf_serve(config, env=env) as url:
                until(lambda: (ok(url, 1), dropped(url) > 0)[1])
                assert "read-only" in warning(url, env)
        finally:
            remount(data, "rw")
        assert len(rows(path)) == 1


def test_a_ledger_locked_by_another_program_drops_rows_and_says_so(
    config: Path, tmp_path: Path
) -> None:
    env = serve_env(tmp_path / "data")
    path = ledger_file(tmp_path / "data")
    with ccf_serve(config, env=env) as url:
        ok(url, 1)
        wait_for_rows(path, 1)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            until(lambda: (ok(url, 1), dropped(url) > 0)[1])
            assert "locked" in warning(url, env)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        until(lambda: (ok(url, 1), warning(url, env) == "")[1])


def test_a_corrupt_ledger_is_moved_aside_and_a_new_one_started(
    config: Path, tmp_path: Path
) -> None:
    env = serve_env(tmp_path / "data")
    path = ledger_file(tmp_path / "data")
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(64 * 1024))
    with ccf_serve(config, env=env) as url:
        ok(url, 3)
        wait_for_rows(path, 3)
        path.write_bytes(os.urandom(64 * 1024))  # and once more while it runs
        ok(url, 3)
    aside = list(path.parent.glob("usage.sqlite3.corrupt-*"))
    assert aside, "the garbage was not moved aside"
    with ccf_serve(config, env=env) as url:
        ok(url, 2)
        found = wait_for_rows(path, 2)
    assert all(row["status"] == 200 for row in found)


def fill(filler: Path) -> None:
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            return


def test_a_full_disk_drops_rows_and_says_so(config: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data", size="1m") as data:
        env = serve_env(data)
        path = ledger_file(data)
        with ccf_serve(config, env=env) as url:
            ok(url, 1)
            wait_for_rows(path, 1)
            fill(data / "filler")
            until(lambda: (ok(url, 5), dropped(url) > 0)[1], timeout=40)
            assert "full" in warning(url, env)
            (data / "filler").unlink()
            until(lambda: (ok(url, 1), warning(url, env) == "")[1])
