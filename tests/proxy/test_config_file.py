"""Reading the config file: only a regular file, of a sane size, in UTF-8."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxy.config_file import MAX_CONFIG_BYTES, load_config, read_config_text, read_raw
from proxy.core.errors import ConfigError
from tests.proxy.core.test_config_yaml import ALIAS_BOMB

GOOD = "endpoints: [{name: a, base_url: 'http://127.0.0.1:9'}]\n"


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    return str(info.value)


def test_no_file_is_the_built_in_default(tmp_path: Path) -> None:
    assert read_config_text(tmp_path / "none.yaml") is None
    assert load_config(tmp_path / "none.yaml", {}).endpoints[0].name == "anthropic"
    assert read_raw(tmp_path / "none.yaml") == {}


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    os.mkfifo(path)
    assert "not a regular file" in refusal(path)


def test_a_device_that_never_ends_is_refused() -> None:
    assert "not a regular file" in refusal(Path("/dev/zero"))


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert "cannot read" in refusal(tmp_path)


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(GOOD)
    (tmp_path / "config.yaml").symlink_to(tmp_path / "real.yaml")
    assert load_config(tmp_path / "config.yaml", {}).endpoints[0].name == "a"


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "#" * MAX_CONFIG_BYTES)
    assert "larger than 1024 KiB" in refusal(path)


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "#" * (MAX_CONFIG_BYTES - len(GOOD)))
    assert load_config(path, {}).endpoints[0].name == "a"


def test_the_update_path_refuses_the_same_files(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(ConfigError, match=r"cannot update .* line 5: aliases"):
        read_raw(path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_raw(path)
