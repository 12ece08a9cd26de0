"""No key reaches a log line: `ccf serve` logs with the redactor and registers every key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.serve import LISTENING

pytestmark = pytest.mark.slow
MARKER = "sk-MARKER-7f3a9c-do-not-log"


def test_keys_never_reach_the_log(tmp_path: Path, threaded_fakes) -> None:
    primary, backup = threaded_fakes.start("primary"), threaded_fakes.start("backup")
    primary.status(
        401,
        body={
            "type": "error",
            "error": {"type": "authentication_error", "message": f"bad key {MARKER}"},
        },
    )
    backup.reset()
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}', auth: x-api-key, key: 'env:PRIMARY_KEY'}}\n"
        f"  - {{name: backup, base_url: '{backup.url}', auth: bearer, key: 'env:PRIMARY_KEY'}}\n"
    )
    env = {
        **os.environ,
        "PRIMARY_KEY": MARKER,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
    }
    log = tmp_path / "stderr.txt"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tray_app", "serve", "--config", str(config), "--port", "0"],
            stdout=subprocess.PIPE, stderr=sink, text=True, env=env,
        )  # fmt: skip
        try:
            url = LISTENING.search(process.stdout.readline()).group(1)
            body = json.dumps({"model": "m", "messages": []}).encode()
            headers = {"x-api-key": MARKER, "authorization": f"Bearer {MARKER}"}
            request = urllib.request.Request(url + "/v1/messages", data=body, headers=headers)
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=10)
        finally:
            process.terminate()
            process.wait(10)
            process.stdout.close()
    logs = [log.read_text(), *(p.read_text() for p in (tmp_path / "state").rglob("*.log"))]
    assert "primary failed" in logs[0]
    assert all(MARKER not in text for text in logs)
    assert "***" in logs[0]
