"""Fixtures for the packaging tests: the packaging scripts as modules, one frozen build per
session (built by `packaging/build.py` into a temporary folder), and a private X desktop."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.tray_app.desktop_session import Desktop, missing_programs

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ARTIFACTS = ROOT / "test-artifacts" / "packaging"


def load(name: str) -> ModuleType:
    """`packaging/<name>.py` as a module (packaging/ is no package: the name is PyPA's)."""
    if str(PACKAGING) not in sys.path:
        sys.path.insert(0, str(PACKAGING))
    spec = importlib.util.spec_from_file_location(f"ccf_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class FrozenBuild:
    report: dict[str, Any]
    seconds: float
    output: str

    @property
    def binary(self) -> Path:
        return Path(self.report["binary"])

    @property
    def archive(self) -> Path:
        return Path(self.report["archive"])


@pytest.fixture(scope="session")
def frozen_build(tmp_path_factory: pytest.TempPathFactory) -> FrozenBuild:
    """`python packaging/build.py` (PyInstaller, pack, smoke test) into a temporary folder."""
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is not installed: pip install pyinstaller (see packaging/)")
    out = tmp_path_factory.mktemp("frozen")
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            str(PACKAGING / "build.py"),
            "--dist",
            str(out / "dist"),
            "--work",
            str(out / "work"),
            "--starts",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"packaging/build.py failed:\n{output[-8000:]}"
    report = json.loads((out / "dist" / "build-report.json").read_text())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "dist" / "build-report.json", ARTIFACTS / "build-report.json")
    return FrozenBuild(report, seconds, output)


@pytest.fixture
def desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    """Xvfb + trayer + session bus + dunst with a fresh HOME (tests/tray_app's session)."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"GUI test needs {', '.join(missing)} (see TESTING.md)")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    session = Desktop(home=tmp_path / "home", artifacts=ARTIFACTS / name)
    try:
        session.start(os.environ)
        yield session
    finally:
        session.stop()
