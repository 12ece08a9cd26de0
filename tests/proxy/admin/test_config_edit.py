"""The settings window's edits as pure functions over the config file's data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.core.config import FieldError, parse_config
from proxy.core.config_edit import (
    add_endpoint,
    compact_endpoint,
    delete_endpoint,
    editable_view,
    leading_comments,
    reorder_endpoints,
    replace_endpoint,
    set_enabled,
    set_general,
)

RAW = {
    "endpoints": [
        {"name": "a", "base_url": "https://a.example"},
        {"name": "b", "base_url": "${B_URL}", "auth": "bearer"},
    ],
    "routing": {"pinned": "b"},
}
ENV = {"B_URL": "https://b.example"}


def test_edits_never_change_their_input() -> None:
    before = repr(RAW)
    add_endpoint(RAW, {"name": "c", "base_url": "https://c.example"})
    replace_endpoint(RAW, "b", {"name": "x", "base_url": "https://x"})
    delete_endpoint(RAW, "a")
    reorder_endpoints(RAW, ["b", "a"])
    set_enabled(RAW, "a", False)
    assert repr(RAW) == before


def test_compact_endpoint_drops_defaults_and_keeps_order() -> None:
    fields = {
        "enabled": True,
        "headers": {},
        "models": {"*": "m"},
        "auth": "client",
        "key": "keyring",
        "format": "anthropic",
        "base_url": "https://x",
        "name": "x",
    }
    assert compact_endpoint(fields) == {
        "name": "x",
        "base_url": "https://x",
        "auth": "client",
        "models": {"*": "m"},
    }


def test_the_default_config_becomes_an_explicit_list_when_first_edited() -> None:
    raw = add_endpoint({}, {"name": "b", "base_url": "https://b.example"})
    assert [e["name"] for e in raw["endpoints"]] == ["anthropic", "b"]
    assert parse_config(raw, {}).endpoints[0].auth == "client"


def test_rename_moves_the_pin_and_delete_clears_it() -> None:
    renamed = replace_endpoint(RAW, "b", {**RAW["endpoints"][1], "name": "backup"})
    assert renamed["routing"]["pinned"] == "backup"
    assert delete_endpoint(RAW, "b")["routing"]["pinned"] is None


@pytest.mark.parametrize("names", [["a"], ["a", "a"], ["a", "b", "c"], ["b", "x"]])
def test_reorder_must_name_every_endpoint_once(names: list[str]) -> None:
    with pytest.raises(FieldError) as error:
        reorder_endpoints(RAW, names)
    assert error.value.path == "order"


def test_unknown_names_and_sections_are_field_errors() -> None:
    with pytest.raises(FieldError):
        set_enabled(RAW, "zzz", True)
    with pytest.raises(FieldError):
        set_general(RAW, {"endpoints": []})


@pytest.mark.parametrize("days", [1, 90, 3650])
def test_general_sets_the_usage_retention(days: int) -> None:
    raw = set_general(RAW, {"usage": {"retention_days": days}})
    assert raw["usage"] == {"retention_days": days}
    assert raw["endpoints"] == RAW["endpoints"]
    assert parse_config(raw, ENV).usage.retention_days == days
    assert editable_view(raw, parse_config(raw, ENV))["usage"] == {"retention_days": days}


@pytest.mark.parametrize("days", [0, -1, 3651, 1.5, "30", True, None])
def test_retention_outside_whole_days_1_to_3650_is_refused_in_plain_words(days: object) -> None:
    raw = set_general(RAW, {"usage": {"retention_days": days}})
    with pytest.raises(FieldError) as error:
        parse_config(raw, ENV)
    assert error.value.path == "usage.retention_days"
    assert "use whole days, 1 to 3650" in str(error.value)


def test_retention_defaults_to_90_days() -> None:
    assert parse_config(RAW, ENV).usage.retention_days == 90
    assert editable_view(RAW, parse_config(RAW, ENV))["usage"] == {"retention_days": 90}


def test_view_keeps_env_references_and_the_files_listen() -> None:
    raw = {**RAW, "listen": {"port": 9000}}
    view = editable_view(raw, parse_config(raw, {**ENV, "CCF_PORT": "1234"}))
    assert view["endpoints"][1]["base_url"] == "${B_URL}"
    assert view["endpoints"][0]["base_url"] == "https://a.example"
    assert view["listen"] == {"host": "127.0.0.1", "port": 9000}


def test_leading_comments() -> None:
    assert leading_comments("# mine\n\n# too\nlisten: {}\n# not this\n") == "# mine\n\n# too\n"
    assert leading_comments("listen: {}\n").startswith("# Claude Code Fallback configuration")


@given(st.permutations(["a", "b", "c", "d"]))
def test_reordering_round_trips(order: list[str]) -> None:
    raw = {"endpoints": [{"name": n, "base_url": f"https://{n}.example"} for n in "abcd"]}
    reordered = reorder_endpoints(raw, order)
    assert [e.name for e in parse_config(reordered, {}).endpoints] == order
    assert reorder_endpoints(reordered, list("abcd")) == raw
