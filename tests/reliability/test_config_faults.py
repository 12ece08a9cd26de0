"""A crash during a settings write leaves the old file or the new one, never a broken one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxy.config_file import load_config, write_atomically
from proxy.core.errors import ConfigError

OLD = "endpoints: [{name: old, base_url: 'http://127.0.0.1:9'}]\n"
NEW = "endpoints:\n" + "".join(
    f"  - {{name: new{i}, base_url: 'http://127.0.0.1:{1000 + i}'}}\n" for i in range(400)
)
WRITER = """
import sys
from pathlib import Path
from proxy.config_file import write_atomically
path, texts = Path(sys.argv[1]), [sys.argv[2], sys.argv[3]]
print("ready", flush=True)
i = 0
while True:
    write_atomically(path, texts[i % 2])
    i += 1
"""


def names(path: Path) -> set[str]:
    return {e.name for e in load_config(path, {}).endpoints}


@pytest.mark.parametrize("step", ["write", "fsync", "chmod", "replace"])
def test_a_failure_at_any_step_keeps_the_old_file(tmp_path: Path, monkeypatch, step) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(OLD)

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # what a crash looks like from inside: nothing after runs

    target = {"write": "proxy.config_file.os.fdopen", "fsync": "proxy.config_file.os.fsync"}
    target |= {"chmod": "proxy.config_file.os.chmod", "replace": "proxy.config_file.os.replace"}
    monkeypatch.setattr(target[step], crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, NEW)
    assert path.read_text() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # no temp file left


@pytest.mark.timeout(60)
def test_sigkill_during_writes_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """A writer alternates two configs as fast as it can; it is killed at 25 random moments."""
    path = tmp_path / "config.yaml"
    path.write_text(OLD)
    rng = random.Random(7)
    seen = set()
    for _ in range(25):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), OLD, NEW],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.05))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        try:
            got = names(path)
        except ConfigError as exc:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"a killed write left a broken file: {exc}")
        assert got in ({"old"}, {f"new{i}" for i in range(400)})
        seen.add(len(got))
    assert seen == {1, 400}, "the kills never landed on both sides of a write"
