"""Hypothesis strategies for JSON *text* as clients write it: odd escapes, lone surrogates,
numbers like `1e-7` and huge integers, any whitespace, deep nesting. Each value is drawn as
its raw text, so a test knows exactly which bytes a lossless edit must keep."""

from __future__ import annotations

import json

from hypothesis import strategies as st

SPACE = st.sampled_from(["", " ", "  ", "\n", "\n  ", "\t", "\r\n"])

_ESCAPES = st.one_of(
    st.integers(0x20, 0xFFFF)
    .filter(lambda n: not 0xD800 <= n <= 0xDFFF)
    .map(lambda n: f"\\u{n:04x}"),
    st.sampled_from(["\\n", "\\t", "\\/", '\\"', "\\\\", "\\b", "\\f", "\\r"]),
    st.sampled_from(["\\ud83d", "\\udc00", "\\uD83D", "\\ud83d\\ude00"]),  # lone and paired
)
_LITERAL = st.characters(codec="utf-8", exclude_characters='"\\', min_codepoint=0x20)
STRINGS = st.lists(st.one_of(_LITERAL, _ESCAPES), max_size=12).map(lambda p: '"' + "".join(p) + '"')
NUMBERS = st.one_of(
    st.sampled_from(["0", "-0", "1e-7", "1E+2", "1.0", "-12.50", "2.5e10", "0.1"]),
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
LEAVES = st.one_of(STRINGS, NUMBERS, st.sampled_from(["true", "false", "null"]))


@st.composite
def _array(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    items = draw(st.lists(children, max_size=4))
    sep = draw(SPACE)
    return "[" + sep + ("," + draw(SPACE)).join(items) + draw(SPACE) + "]"


@st.composite
def _object(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    pairs = draw(st.lists(st.tuples(STRINGS, children), max_size=4))
    sep = draw(SPACE)
    body = ("," + draw(SPACE)).join(f"{k}{draw(SPACE)}:{draw(SPACE)}{v}" for k, v in pairs)
    return "{" + sep + body + draw(SPACE) + "}"


VALUES = st.recursive(
    LEAVES, lambda children: st.one_of(_array(children), _object(children)), max_leaves=12
)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """A value nested 1-60 arrays or objects deep."""
    depth = draw(st.integers(1, 60))
    text = draw(LEAVES)
    for _ in range(depth):
        text = f"[{text}]" if draw(st.booleans()) else f'{{"k":{text}}}'
    return text


OURS = frozenset({"model", "max_tokens", "thinking", "messages"})


@st.composite
def request_members(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Top-level (key text, value text) pairs of a Messages request, in a random order,
    with other members (strange ones too) around `model` and `max_tokens`."""
    model = draw(st.sampled_from(['"claude-sonnet-4-5"', '"claude-\\u0073onnet-4-5"']))
    members = [('"model"', model), ('"max_tokens"', draw(st.sampled_from(["64000", "100"])))]
    others = st.tuples(
        STRINGS.filter(lambda k: json.loads(k) not in OURS), st.one_of(VALUES, nested())
    )
    members += draw(st.lists(others, max_size=5))
    members.append(('"messages"', draw(_array(VALUES))))
    return draw(st.permutations(members))


def join_members(members: list[tuple[str, str]], spaces: list[str]) -> str:
    """The object text of `members`, `spaces` (cycled) around every separator."""
    parts = []
    for i, (key, value) in enumerate(members):
        space = spaces[i % len(spaces)]
        parts.append(f"{space}{key}{space}:{space}{value}{space}")
    return "{" + ",".join(parts) + "}"
