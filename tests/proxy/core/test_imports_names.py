"""Endpoint names from other tools' display names; model lists; the export's secrets."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.imports import endpoint_name
from proxy.core.model_list import model_ids
from proxy.core.transfer import exportable, imported, needing_keys

VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@settings(deadline=None)
@given(st.text(max_size=100), st.lists(st.text(max_size=20), max_size=5))
def test_any_display_name_gives_a_valid_unused_name(text: str, taken: list[str]) -> None:
    name = endpoint_name(text, taken)
    assert VALID.fullmatch(name)
    assert name.lower() not in {t.lower() for t in taken}


def test_names_read_like_the_original() -> None:
    assert endpoint_name("Zhipu GLM") == "Zhipu-GLM"
    assert endpoint_name("月之暗面 Kimi") == "Kimi"
    assert endpoint_name("DeepSeek", ["deepseek"]) == "DeepSeek-2"


def test_model_ids_of_either_format() -> None:
    assert model_ids(b'{"data": [{"id": "b"}, {"id": "a"}, {"id": "a"}], "has_more": false}') == [
        "a",
        "b",
    ]
    assert model_ids(b'{"object": "list", "data": [{"id": "gpt-x", "object": "model"}]}') == [
        "gpt-x"
    ]
    with pytest.raises(ValueError, match="not JSON"):
        model_ids(b"<html>")
    with pytest.raises(ValueError, match='no "data" list'):
        model_ids(b'{"models": []}')


def test_export_leaves_the_access_token_behind_and_import_keeps_ours() -> None:
    raw = {
        "security": {"access_token": "x" * 20},
        "endpoints": [{"name": "a", "base_url": "https://a", "auth": "bearer"}],
    }
    out = exportable(raw)
    assert out["security"] == {"access_token": None}
    assert raw["security"]["access_token"] == "x" * 20  # the original is not changed
    assert (
        imported({"security": {"access_token": "mine" * 5}}, out)["security"]["access_token"]
        == "mine" * 5
    )
    assert needing_keys(out) == ["a"]
