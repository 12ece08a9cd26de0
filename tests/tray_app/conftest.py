"""Fixtures for the tray tests: a private X desktop per GUI test (see desktop_session.py)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tray_app.desktop_session import Desktop, missing_programs

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "tray"


def _session(request: pytest.FixtureRequest, tmp_path: Path, with_tray: bool) -> Iterator[Desktop]:
    missing = missing_programs()
    if missing:
        pytest.skip(f"GUI test needs {', '.join(missing)} (see TESTING.md)")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(ARTIFACTS / name, ignore_errors=True)  # no stale screenshots of an earlier run
    session = Desktop(home=tmp_path / "home", artifacts=ARTIFACTS / name, with_tray=with_tray)
    try:
        session.start(os.environ)
        yield session
    finally:
        session.stop()


@pytest.fixture
def desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    """Xvfb + trayer + session bus + dunst, with a fresh HOME; stopped by PID afterwards."""
    yield from _session(request, tmp_path, with_tray=True)


@pytest.fixture
def bare_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    """The same without a tray host (start one with `start_trayer()`)."""
    yield from _session(request, tmp_path, with_tray=False)
