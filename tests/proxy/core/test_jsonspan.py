"""The span-keeping JSON editor: spans decode to what json.loads reads, edits keep the rest."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.jsonspan import (
    NotEditable,
    as_dict,
    document,
    elements,
    members,
    removals,
    replacement,
    splice,
)
from tests.proxy.core.jsontext import SPACE, STRINGS, VALUES, nested


@settings(deadline=None, max_examples=120)
@given(st.lists(st.tuples(STRINGS, VALUES), max_size=6), SPACE)
def test_members_decode_as_json_loads_reads_them(pairs: list[tuple[str, str]], space: str) -> None:
    text = "{" + ",".join(f"{space}{k}{space}:{space}{v}" for k, v in pairs) + "}"
    spans = members(text, 0)
    assert [text[s.value_start : s.end] for s in spans] == [v for _, v in pairs]
    assert as_dict(document(text + space)) == json.loads(text)


@settings(deadline=None, max_examples=120)
@given(st.lists(st.one_of(VALUES, nested()), max_size=8), SPACE, st.data())
def test_removals_keep_every_other_element_as_written(
    items: list[str], space: str, data: st.DataObject
) -> None:
    text = "[" + space + f"{space},{space}".join(items) + space + "]"
    spans = elements(text, 0)
    assert [text[s.start : s.end] for s in spans] == items
    gone = data.draw(st.sets(st.integers(0, max(len(items) - 1, 0))) if items else st.just(set()))
    out = splice(text, removals(spans, gone))
    kept = [item for i, item in enumerate(items) if i not in gone]
    assert json.loads(out) == [json.loads(item) for item in kept]
    at = 0
    for item in kept:  # each kept element still there, byte for byte, in order
        at = out.index(item, at) + len(item)


@pytest.mark.parametrize(
    "text", ["", "[]", "{", '{"a":1', '{"a" 1}', '{"a":1,}', '{"a":1} x', "{a:1}", "[" * 50_000]
)
def test_what_is_not_one_json_object_is_not_editable(text: str) -> None:
    with pytest.raises(NotEditable):
        document(text)


def test_a_replacement_changes_only_its_value() -> None:
    text = '{ "model" :"a\\u00e9",\n"n": 1e-7, "s": "\\ud83d"}'
    span = members(text, 0)[0]
    assert splice(text, [replacement(span, "b")]) == '{ "model" :"b",\n"n": 1e-7, "s": "\\ud83d"}'


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(NotEditable):
        splice("abcdef", [(0, 3, "x"), (2, 4, "y")])


def test_removing_every_member_leaves_an_empty_object() -> None:
    text = '{"a": 1, "b": [2], "c": {}}'
    spans = members(text, 0)
    assert json.loads(splice(text, removals(spans, {0, 1, 2}))) == {}
    assert splice(text, removals(spans, {1, 2})) == '{"a": 1}'
    assert splice(text, removals(spans, {0})) == '{"b": [2], "c": {}}'
