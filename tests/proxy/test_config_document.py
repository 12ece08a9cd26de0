"""The config file as a round-trip document: an edit touches only what it changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.config_document import merge, plain, read_document, render
from proxy.core.errors import ConfigError


def edited(tmp_path: Path, text: str, change: Any) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    document = read_document(path)
    merge(document.root, change(document.data))
    return render(document)


def test_nothing_changed_writes_the_same_text(tmp_path: Path) -> None:
    text = (
        "# top\nlisten: {host: 127.0.0.1, port: 8765}  # where\n"
        'endpoints:\n- name: a   # first\n  base_url: "http://x"\n'
        "failover:\n  on_status: [429, 5xx]\n"
    )
    assert edited(tmp_path, text, lambda data: data) == text


def test_a_changed_value_keeps_its_neighbours(tmp_path: Path) -> None:
    text = "failover:\n  on_status: [429, 529]  # mine\n  cooldown_seconds: 30  # doubled\n"

    def change(data: dict[str, Any]) -> dict[str, Any]:
        data["failover"]["cooldown_seconds"] = 60
        return data

    assert edited(tmp_path, text, change) == (
        "failover:\n  on_status: [429, 529]  # mine\n  cooldown_seconds: 60  # doubled\n"
    )


def test_a_removed_key_goes_and_a_new_one_comes_last(tmp_path: Path) -> None:
    text = "routing:\n  pinned: a  # pin\n  paused: false\n"

    def change(data: dict[str, Any]) -> dict[str, Any]:
        return {"routing": {"paused": True}, "timeouts": {"idle": 10}}

    out = edited(tmp_path, text, change)
    assert "pinned" not in out
    assert out.index("routing") < out.index("timeouts")
    assert "paused: true" in out


def test_a_plain_list_keeps_its_flow_style(tmp_path: Path) -> None:
    text = "failover:\n  on_status: [429, 529]\n"

    def change(data: dict[str, Any]) -> dict[str, Any]:
        data["failover"]["on_status"] = [429, 503, 529]
        return data

    assert edited(tmp_path, text, change) == "failover:\n  on_status: [429, 503, 529]\n"


def test_plain_gives_python_values(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("a: {b: [1, 2.5, 'x', true, null]}\n")
    data = plain(read_document(path).root)
    assert data == {"a": {"b": [1, 2.5, "x", True, None]}}
    assert [type(v) for v in data["a"]["b"]] == [int, float, str, bool, type(None)]


@pytest.mark.parametrize("text", ["- a\n- b\n", "endpoints: [\n", "just text\n"])
def test_a_file_that_is_not_settings_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="cannot update"):
        read_document(path)
