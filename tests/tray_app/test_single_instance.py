"""The single-instance lock between real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tray_app.single_instance import InstanceInfo, InstanceLock, hand_over, runtime_dir

HOLDER = textwrap.dedent(
    """
    import os, sys, threading, time
    from pathlib import Path
    from tray_app.single_instance import InstanceInfo, InstanceLock

    lock = InstanceLock(Path(sys.argv[1]))
    if not lock.acquire():
        print("busy", flush=True)
        sys.exit(3)
    if sys.argv[2] in ("publish", "answer"):
        lock.publish(InstanceInfo(os.getpid(), "http://127.0.0.1:9999", "http://127.0.0.1:9999/_ccf/#t"))
    print("held", flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.wait(0.05):  # hold until the test closes stdin (or kills us)
        if sys.argv[2] == "answer" and lock.take_settings_request():
            print("settings", flush=True)
    lock.release()
    """
)


def start_holder(directory: Path, mode: str = "publish") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def finish(proc: subprocess.Popen[str]) -> None:
    """Kill the holder if it still runs, reap it and close its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = start_holder(tmp_path)
    yield proc
    finish(proc)


def test_second_process_cannot_take_the_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    lock = InstanceLock(tmp_path)
    assert not lock.acquire()
    assert not lock.held
    info = lock.read_info()
    assert info == InstanceInfo(
        holder.pid, "http://127.0.0.1:9999", "http://127.0.0.1:9999/_ccf/#t"
    )
    assert stat.S_IMODE(lock.info_path.stat().st_mode) == 0o600


def test_lock_is_free_after_the_holder_exits_cleanly(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.communicate("", timeout=10)  # closes stdin: the holder releases and exits
    assert holder.returncode == 0
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    assert lock.read_info() is None  # the holder removed its note
    lock.release()


def test_lock_is_free_after_the_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    finish(holder)
    with InstanceLock(tmp_path) as lock:
        assert lock.acquire()  # the OS dropped the lock; a stale note does not block
        lock.publish(InstanceInfo(os.getpid(), "http://127.0.0.1:1", "http://127.0.0.1:1/s"))
        assert lock.read_info() == InstanceInfo(
            os.getpid(), "http://127.0.0.1:1", "http://127.0.0.1:1/s"
        )
    assert not (tmp_path / "instance.json").exists()


def test_hand_over_asks_the_running_instance_to_open_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = start_holder(tmp_path, mode="answer")
    try:
        opened: list[str] = []
        lock = InstanceLock(tmp_path)
        assert not lock.acquire()
        assert hand_over(lock, opened.append, timeout=5, answer_timeout=10) == 0
        assert opened == []  # the running instance opens its own window
        assert running.stdout is not None
        assert running.stdout.readline() == "settings\n"
        assert f"already running (pid {running.pid})" in capsys.readouterr().out
        assert not lock.request_path.exists()
    finally:
        finish(running)


def test_hand_over_opens_the_url_itself_when_nobody_answers(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    opened: list[str] = []
    lock = InstanceLock(tmp_path)
    assert not lock.acquire()
    assert hand_over(lock, opened.append, timeout=5, answer_timeout=0.3) == 0
    assert opened == ["http://127.0.0.1:9999/_ccf/#t"]
    assert not lock.request_path.exists()


def test_stale_request_is_dropped_by_the_next_holder(tmp_path: Path) -> None:
    InstanceLock(tmp_path).request_path.parent.mkdir(parents=True, exist_ok=True)
    InstanceLock(tmp_path).request_settings()
    with InstanceLock(tmp_path) as lock:
        assert lock.acquire()
        assert not lock.take_settings_request()


def test_hand_over_waits_for_a_starting_instance(tmp_path: Path) -> None:
    proc = start_holder(tmp_path, mode="silent")  # holds the lock, has not published yet
    try:
        lock = InstanceLock(tmp_path)
        assert not lock.acquire()
        opened: list[str] = []
        assert hand_over(lock, opened.append, timeout=0.3) == 1
        assert opened == []
    finally:
        finish(proc)


def test_publish_needs_the_lock(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="acquire"):
        InstanceLock(tmp_path).publish(InstanceInfo(1, "u", "s"))


def test_acquire_twice_in_one_process_is_idempotent(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    assert lock.acquire()
    lock.release()
    lock.release()


def test_runtime_dir_follows_xdg_runtime_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG runtime dir is a Linux convention")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert runtime_dir() == tmp_path / "run" / "claude-code-fallback"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert runtime_dir() == tmp_path / "state" / "claude-code-fallback"
