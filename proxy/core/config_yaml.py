"""YAML text to `Config`, with errors that point at the line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from proxy.core.config import Config, FieldError, config_to_dict, parse_config
from proxy.core.errors import ConfigError

_INDEX_RE = re.compile(r"\[\d+\]$")


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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        where = f"{source} line {line}" if line else source
        raise ConfigError(
            f"{where}: not valid YAML ({exc.problem or exc.context}). Fix the file or delete "
            "it to start from the built-in default.",
            line=line,
        ) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{source}: not valid YAML ({type(exc).__name__}: {exc})") from None
    lines: dict[str, int] = {}
    try:
        if node is not None:
            _line_map(node, "", lines)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply, or an alias refers to itself") from None
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
