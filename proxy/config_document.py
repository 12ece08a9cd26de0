"""The user's config file as a round-trip YAML document, so a write keeps what they wrote.

An edit is made on plain data (see `proxy.core.config_edit`); `merge` then carries the new
data into the document read from the file, touching only what changed. Comments, key
order, quoting, flow style and indentation of everything else survive the write.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.util import load_yaml_guess_indent

from proxy.core.config_edit import leading_comments
from proxy.core.errors import ConfigError

MAPPING_INDENT = 2


@dataclass(frozen=True, slots=True)
class Layout:
    """How the file indents sequences, and the comment block a new document starts with."""

    sequence: int = 2
    offset: int = 0
    header: str = ""


@dataclass(slots=True)
class Document:
    """The file's round-trip tree, and the same text as the reader sees it (`data`)."""

    root: CommentedMap
    layout: Layout
    data: dict[str, Any]
    leading_comments: str = ""  # the file's opening comment block (or our header)


def read_document(path: Path) -> Document:
    """The file as a round-trip document; an empty one (with our header) when there is none.

    `data` is parsed by the same YAML reader as `proxy.config_file`, so an edit starts from
    exactly the settings that run (`yes` stays a boolean, as YAML 1.1 has it).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot update {path}: {exc}") from None
    try:
        data = yaml.safe_load(text) if text.strip() else None
        root, sequence, offset = load_yaml_guess_indent(text, yaml=_yaml(Layout()))
    except (yaml.YAMLError, YAMLError, ValueError, RecursionError) as exc:
        raise ConfigError(f"cannot update {path}: {exc}") from None
    comments = leading_comments(text)
    if data is None:  # no file, or only comments: start a mapping under them
        return Document(CommentedMap(), Layout(header=comments), {}, comments)
    if not isinstance(data, dict) or not isinstance(root, CommentedMap):
        raise ConfigError(f"cannot update {path}: it is not a mapping of settings")
    return Document(root, Layout(sequence or 2, offset or 0), data, comments)


def _yaml(layout: Layout) -> YAML:
    round_trip = YAML()
    round_trip.preserve_quotes = True
    round_trip.indent(mapping=MAPPING_INDENT, sequence=layout.sequence, offset=layout.offset)
    round_trip.representer.add_representer(type(None), _null)
    return round_trip


def _null(representer: RoundTripRepresenter, _: None) -> ScalarNode:
    """`null` spelled out, as the user (and our own header's example) writes it."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def render(document: Document) -> str:
    out = io.StringIO()
    _yaml(document.layout).dump(document.root, out)
    return document.layout.header + out.getvalue()


def plain(node: Any) -> Any:
    """A document node as plain Python data (dict, list, str, int, float, bool, None)."""
    if isinstance(node, Mapping):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def merge(old: Any, new: Any) -> Any:
    """`new`, made out of `old` wherever they agree, so `old`'s comments and style stay."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        return _merge_mapping(old, new)
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        return _merge_sequence(old, new)
    same = type(plain(old)) is type(new) and plain(old) == new
    return old if same else new


def _merge_mapping(old: CommentedMap, new: Mapping[Any, Any]) -> CommentedMap:
    for key in [k for k in old if k not in new]:
        del old[key]
    for key, value in new.items():
        if key not in old:
            old[key] = value
            continue
        merged = merge(old[key], value)
        if merged is not old[key]:
            old[key] = merged
    return old


def _merge_sequence(old: CommentedSeq, new: list[Any]) -> CommentedSeq:
    sources = _matching_items(list(old), new)
    merged = [merge(old[i], v) if i is not None else v for i, v in zip(sources, new, strict=True)]
    if len(merged) == len(old) and all(m is o for m, o in zip(merged, old, strict=True)):
        return old
    comments = {j: old.ca.items[i] for j, i in enumerate(sources) if i in old.ca.items}
    list.__delitem__(old, slice(None))
    list.extend(old, merged)
    old.ca.items.clear()
    old.ca.items.update(comments)
    return old


def _matching_items(old: list[Any], new: list[Any]) -> list[int | None]:
    """For each new item, the old item it continues: the one of the same `name`, else the
    first old one whose name is gone (a rename; for plain values, the same place)."""
    kept_names = {_name(item) for item in new} - {None}
    used: set[int] = set()
    sources: list[int | None] = []
    for value in new:
        name = _name(value)
        source = next(
            (
                j
                for j, o in enumerate(old)
                if j not in used and name is not None and _name(o) == name
            ),
            None,
        )
        if source is None:
            gone = (j for j, o in enumerate(old) if j not in used and _name(o) not in kept_names)
            source = next(gone, None)
        if source is not None:
            used.add(source)
        sources.append(source)
    return sources


def _name(item: Any) -> Any:
    return item.get("name") if isinstance(item, Mapping) else None
