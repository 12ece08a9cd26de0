"""The endpoint's optional `ca_file`."""

from __future__ import annotations

import pytest

from proxy.core.config import FieldError, config_to_dict, parse_config


def endpoint(**extra: object) -> dict[str, object]:
    return {"endpoints": [{"name": "corp", "base_url": "https://llm.corp", **extra}]}


def test_ca_file_is_optional_and_kept() -> None:
    assert parse_config(endpoint(), {}).endpoints[0].ca_file is None
    config = parse_config(endpoint(ca_file="/etc/corp-ca.pem"), {})
    assert config.endpoints[0].ca_file == "/etc/corp-ca.pem"
    assert parse_config(config_to_dict(config), {}) == config


def test_ca_file_must_be_a_path() -> None:
    with pytest.raises(FieldError, match=r"endpoints\[0\]\.ca_file"):
        parse_config(endpoint(ca_file=5), {})
