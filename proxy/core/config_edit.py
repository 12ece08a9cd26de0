"""The edits the settings window makes, as functions over the config file's plain data.

Each edit takes the file's data (`${VAR}` references unexpanded) and returns new data; the
input is never changed. Edits check only what they need themselves (that a named endpoint
exists, that a new order is a permutation); the whole result then goes through
`parse_config`, which names the first bad field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from proxy import PRODUCT_NAME
from proxy.core.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ENDPOINT_KEYS,
    Config,
    FieldError,
    config_to_dict,
)

Raw = dict[str, Any]
GENERAL_SECTIONS = ("listen", "failover", "timeouts", "security", "usage")
_DEFAULTS: dict[str, Any] = {"format": "anthropic", "enabled": True}
_EMPTY_MEANS_NONE = ("models", "headers", "price", "limits")


def compact_endpoint(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint mapping in the usual key order, without keys that only repeat a default."""
    out: dict[str, Any] = {}
    for key in ENDPOINT_KEYS:
        if key not in fields:
            continue
        value = fields[key]
        if _DEFAULTS.get(key, object()) == value or (key in _EMPTY_MEANS_NONE and not value):
            continue
        if key == "key" and fields.get("auth", "client") == "client":
            continue
        out[key] = value
    out.update({k: v for k, v in fields.items() if k not in ENDPOINT_KEYS})  # parse names them
    return out


def _endpoints(raw: Raw) -> list[dict[str, Any]]:
    """The file's endpoints; the built-in default list when the file has none."""
    listed = raw.get("endpoints")
    if isinstance(listed, list):
        return copy.deepcopy(listed)
    return [compact_endpoint(e) for e in config_to_dict(Config())["endpoints"]]


def _index_of(endpoints: Sequence[Any], name: str) -> int:
    for i, endpoint in enumerate(endpoints):
        if isinstance(endpoint, Mapping) and endpoint.get("name") == name:
            return i
    raise FieldError("name", f"there is no endpoint named {name!r}")


def _with(raw: Raw, **sections: Any) -> Raw:
    new = copy.deepcopy(raw)
    new.update(sections)
    return new


def _routing(raw: Raw) -> dict[str, Any]:
    routing = raw.get("routing")
    return dict(routing) if isinstance(routing, Mapping) else {}


def add_endpoint(raw: Raw, fields: Mapping[str, Any]) -> Raw:
    return _with(raw, endpoints=[*_endpoints(raw), compact_endpoint(fields)])


def replace_endpoint(raw: Raw, name: str, fields: Mapping[str, Any]) -> Raw:
    """Replace endpoint `name` with `fields`; a rename also moves a pin that named it."""
    endpoints = _endpoints(raw)
    endpoints[_index_of(endpoints, name)] = compact_endpoint(fields)
    new = _with(raw, endpoints=endpoints)
    routing = _routing(raw)
    new_name = fields.get("name")
    if routing.get("pinned") == name and new_name != name:
        new["routing"] = {**routing, "pinned": new_name}
    return new


def delete_endpoint(raw: Raw, name: str) -> Raw:
    """Remove endpoint `name`; a pin that named it goes back to automatic."""
    endpoints = _endpoints(raw)
    del endpoints[_index_of(endpoints, name)]
    if not endpoints:
        raise FieldError("endpoints", "the last endpoint cannot be deleted; add another first")
    new = _with(raw, endpoints=endpoints)
    routing = _routing(raw)
    if routing.get("pinned") == name:
        new["routing"] = {**routing, "pinned": None}
    return new


def reorder_endpoints(raw: Raw, names: Sequence[object]) -> Raw:
    endpoints = _endpoints(raw)
    current = [e.get("name") if isinstance(e, Mapping) else None for e in endpoints]
    if sorted(map(str, names)) != sorted(map(str, current)) or len(set(names)) != len(names):
        raise FieldError("order", f"must name every endpoint once: {', '.join(map(str, current))}")
    return _with(raw, endpoints=[endpoints[current.index(name)] for name in names])


def set_enabled(raw: Raw, name: str, enabled: object) -> Raw:
    endpoints = _endpoints(raw)
    endpoint = dict(endpoints[_index_of(endpoints, name)])
    endpoint["enabled"] = enabled
    endpoints[_index_of(endpoints, name)] = compact_endpoint(endpoint)
    return _with(raw, endpoints=endpoints)


def set_routing(raw: Raw, changes: Mapping[str, Any]) -> Raw:
    return _with(raw, routing={**_routing(raw), **changes})


def set_general(raw: Raw, sections: Mapping[str, Any]) -> Raw:
    """Replace the general sections given (listen, failover, timeouts, security)."""
    unknown = [name for name in sections if name not in GENERAL_SECTIONS]
    if unknown:
        raise FieldError(unknown[0], f"not a general setting; use {', '.join(GENERAL_SECTIONS)}")
    return _with(raw, **copy.deepcopy(dict(sections)))


# ---------------------------------------------------------------- what the page edits


def _overlay(effective: Any, raw: Any) -> Any:
    """`effective` with every `${VAR}` string of `raw` put back where the user wrote one."""
    if isinstance(effective, dict):
        given = raw if isinstance(raw, Mapping) else {}
        return {k: _overlay(v, given[k]) if k in given else v for k, v in effective.items()}
    if isinstance(effective, list):
        if isinstance(raw, list) and len(raw) == len(effective):
            return [_overlay(e, r) for e, r in zip(effective, raw, strict=True)]
        return effective
    return raw if isinstance(raw, str) and "${" in raw else effective


def editable_view(raw: Raw, config: Config) -> dict[str, Any]:
    """The settings as the page edits them: effective values, `${VAR}`s as written, and
    `listen` as the file has it (environment overrides apply on top of it)."""
    view: dict[str, Any] = _overlay(config_to_dict(config), raw)
    given = raw.get("listen")
    listen: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    view["listen"] = {
        "host": listen.get("host", DEFAULT_HOST),
        "port": listen.get("port", DEFAULT_PORT),
    }
    return view


FILE_HEADER = (
    f"# {PRODUCT_NAME} configuration. Endpoints are tried in order; the first is the\n"
    "# primary. Keys live in the OS keyring (key: keyring) or come from env:VAR_NAME.\n"
)


def leading_comments(text: str) -> str:
    """The comment block at the top of a config file (kept when the settings window writes)."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith("#") and line.strip():
            break
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines) if any(line.strip() for line in lines) else FILE_HEADER
