"""packaging/smoke.py against the installed (unfrozen) `ccf`: the smoke checks themselves
pass on a good app, so a failure after a build means the build, not the checks."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from proxy.core.errors import SmokeError
from tests.packaging.conftest import ROOT, load

smoke = load("smoke")


def installed_ccf() -> Path:
    name = "ccf.exe" if sys.platform == "win32" else "ccf"
    script = Path(sys.executable).with_name(name)
    if not script.exists():
        pytest.skip("the ccf script is not installed beside this Python (pip install -e .)")
    return script


@pytest.mark.timeout(120)
def test_smoke_checks_pass_on_the_installed_app() -> None:
    report = smoke.run_smoke(installed_ccf(), smoke.read_version(ROOT), starts=2)
    assert report["request"]["attempts"] == "primary=529, backup=200"
    assert report["request"]["endpoint"] == "backup"
    assert len(report["cold_start_seconds"]) == 2


@pytest.mark.timeout(60)
def test_smoke_fails_on_a_wrong_version() -> None:
    with pytest.raises(SmokeError, match=re.escape("not 'ccf 0.0.0-wrong'")):
        smoke.check_version(installed_ccf(), "0.0.0-wrong")


def test_the_fake_stream_is_a_complete_anthropic_stream() -> None:
    events = smoke.stream_events("m")
    kinds = [e.split(b"\n", 1)[0].decode() for e in events]
    assert kinds[0] == "event: message_start"
    assert kinds[smoke.HEAD_EVENTS - 1] == "event: content_block_delta"
    assert kinds[-1] == "event: message_stop"
