"""YAML text to `Config`, with errors that point at the line.

The text is checked before it is built into values: at most `MAX_CONFIG_CHARS`, collections
nested at most `MAX_DEPTH` deep, aliases that expand to at most `ALIAS_BUDGET` values in all
(a few hundred bytes of nested aliases can otherwise expand to billions), and no key twice
in one mapping. libyaml does the parsing when PyYAML has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from proxy.core.config import Config, FieldError, config_to_dict, parse_config
from proxy.core.errors import ConfigError

MAX_CONFIG_CHARS = 1024 * 1024  # a real config is a few KB
MAX_DEPTH = 64  # the deepest key path of a real config is 4
ALIAS_BUDGET = 10_000  # values that aliases may stand for in all
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INDEX_RE = re.compile(r"\[\d+\]$")
_TOP_KEY_RE = re.compile(r"[^.\[]*")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep; a configuration needs 4"


class _Refused(ValueError):
    """A shape the config refuses, at a line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _line(event: yaml.Event | yaml.Node) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


class _ShapeCheck:
    """Walks the parser's events once: nesting depth and how far aliases expand."""

    def __init__(self) -> None:
        self.open: list[tuple[str | None, int]] = []  # anchor and values so far, per level
        self.sizes: dict[str, int] = {}  # values an anchored node stands for
        self.aliased = 0

    def see(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            self._count(1, event.anchor)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(self.open) >= MAX_DEPTH:
                raise _Refused(_line(event), _TOO_DEEP)
            self.open.append((event.anchor, 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = self.open.pop()
            self._count(size, anchor)

    def _count(self, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.sizes[anchor] = size
        if self.open:
            parent, so_far = self.open[-1]
            self.open[-1] = (parent, so_far + size)

    def _alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor or ""
        if any(anchor == name for anchor, _ in self.open):
            raise _Refused(_line(event), f"the alias *{name} is inside its own anchor &{name}")
        size = self.sizes.get(name, 1)
        self.aliased += size
        if self.aliased > ALIAS_BUDGET:
            raise _Refused(
                _line(event),
                f"aliases (*{name} here) stand for more than {ALIAS_BUDGET} values in all; "
                "write the values out or use fewer aliases",
            )
        self._count(size, None)


def _refuse_duplicate_keys(node: yaml.Node, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[tuple[str, str]] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                if (key.tag, key.value) in keys:
                    raise _Refused(_line(key), f"the key {key.value!r} appears twice here")
                keys.add((key.tag, key.value))
            _refuse_duplicate_keys(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, seen)


def _compose(text: str) -> yaml.Node | None:
    check = _ShapeCheck()
    for event in yaml.parse(text, Loader=Loader):
        check.see(event)
    node: yaml.Node | None = yaml.compose(text, Loader=Loader)
    if node is not None:
        _refuse_duplicate_keys(node, set())
    return node


def _construct(node: yaml.Node | None) -> Any:
    if node is None:
        return None
    loader = Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(text: str, source: str = "config.yaml") -> tuple[Any, yaml.Node | None]:
    """The values in `text`, and its node tree for line numbers; `ConfigError` if refused."""
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(
            f"{source} is larger than {MAX_CONFIG_CHARS // 1024} KiB ({len(text)} characters); "
            "a configuration is a few KB. Check that it is the right file."
        )
    try:
        node = _compose(text)
        return _construct(node), node
    except _Refused as exc:
        raise ConfigError(f"{source} line {exc.line}: {exc}", line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        where = f"{source} line {line}" if line else source
        problem = exc.problem or exc.context
        if problem and "nesting depth" in problem:  # libyaml's own limit, met while scanning
            raise ConfigError(f"{where}: {_TOO_DEEP}", line=line) from None
        raise ConfigError(
            f"{where}: not valid YAML ({problem}). Fix the file or delete "
            "it to start from the built-in default.",
            line=line,
        ) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{source}: not valid YAML ({type(exc).__name__}: {exc})") from None


def _line_map(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else str(key)
            lines[child] = key_node.start_mark.line + 1
            _line_map(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, f"{path}[{i}]", lines)


def _line_for(path: str, lines: Mapping[str, int]) -> int | None:
    """The line of `path`, or of its nearest parent; None for what is not in the file
    (a value from the environment such as CCF_PORT)."""
    top = _TOP_KEY_RE.match(path)
    if path and (top is None or top.group() not in lines):
        return None
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = _INDEX_RE.sub("", path) if _INDEX_RE.search(path) else path.rpartition(".")[0]


def parse_config_text(text: str, env: Mapping[str, str], source: str = "config.yaml") -> Config:
    """Parse and validate a YAML config; raise `ConfigError` naming line, key path and fix."""
    if not text.strip():
        raise ConfigError(
            f"{source} is empty. Delete it to start from the built-in default, "
            "or restore its contents.",
        )
    data, node = read_yaml(text, source)
    lines: dict[str, int] = {}
    if node is not None:
        _line_map(node, "", lines)
    try:
        return parse_config(data, env)
    except FieldError as exc:
        line = _line_for(exc.path, lines)
        where = f"{source} line {line}" if line else source
        raise ConfigError(f"{where}: {exc}", path=exc.path, line=line) from None


def config_to_yaml(config: Config) -> str:
    header = (
        "# Claude Code Fallback configuration. Endpoints are tried in order; the first is the\n"
        "# primary. Keys live in the OS keyring (key: keyring) or come from env:VAR_NAME.\n"
    )
    return header + yaml.safe_dump(config_to_dict(config), sort_keys=False)
