"""What a request is, decided once from its target exactly as the client sent it.

    refused   a target that could mean two things: an encoded `/`, `\\`, `?` or `#`, a raw
              `\\`, a `.` or `..` segment in any spelling, a control character (NUL too),
              a malformed escape, a character HTTP does not allow unencoded, a fragment,
              or a target that is not a path (`http://…`, `*`)
    admin     `/_ccf` and everything under it: the settings page and its API
    local     `/health` and `/metrics`, answered by the proxy itself
    proxied   everything else, sent upstream with the raw path and query as they came

The guard and the router both read the one `Target` made here, so they cannot disagree
about a path; what is not refused has a single plain form, so `/%5fccf/…` is admin and
`/%68ealth` is local, exactly as their plain spellings are.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

Kind = Literal["refused", "admin", "local", "proxied"]

ADMIN_ROOT = "/_ccf"
LOCAL_PATHS = frozenset({"/health", "/metrics"})
LOCAL_METHODS = frozenset({"GET", "HEAD"})
_PATH_CHARS = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%")
_QUERY_CHARS = _PATH_CHARS | {"?"}
_HEX = frozenset(string.hexdigits)
_AMBIGUOUS_ESCAPES = {"2f": "/", "5c": "\\", "3f": "?", "23": "#"}
_DOT_SEGMENTS = frozenset({".", ".."})


@dataclass(frozen=True, slots=True)
class Target:
    """A request target, classified. `raw` and `query` go upstream untouched; `plain` (the
    path with its escapes undone) is what routes and the guard compare."""

    kind: Kind
    raw: str
    query: str
    plain: str
    problem: str = ""


def classify(target: str) -> Target:
    """The kind of `target` (a request line's target: path and optional query)."""
    raw, _, query = target.partition("?")
    problem = _path_problem(raw) or _query_problem(query)
    if problem:
        return Target("refused", raw, query, "", problem)
    plain = _unescape(raw)
    if plain is None:
        return Target("refused", raw, query, "", "the path is not UTF-8 once decoded")
    if any(segment in _DOT_SEGMENTS for segment in plain.split("/")):
        return Target("refused", raw, query, plain, "the path has a '.' or '..' segment")
    return Target(_kind_of(plain), raw, query, plain)


def _kind_of(plain: str) -> Kind:
    if plain == ADMIN_ROOT or plain.startswith(ADMIN_ROOT + "/"):
        return "admin"
    return "local" if plain in LOCAL_PATHS else "proxied"


def _path_problem(raw: str) -> str:
    if not raw.startswith("/"):
        return "the target must be a path starting with '/'"
    bad = next((c for c in raw if c not in _PATH_CHARS), None)
    if bad is not None:
        return f"the path has a character that must be percent-encoded ({bad!r})"
    return _escapes_problem(raw)


def _query_problem(query: str) -> str:
    bad = next((c for c in query if c not in _QUERY_CHARS), None)
    if bad is not None:
        return f"the query has a character that must be percent-encoded ({bad!r})"
    return ""


def _escapes_problem(raw: str) -> str:
    for index in _escape_indexes(raw):
        pair = raw[index + 1 : index + 3]
        if len(pair) < 2 or not set(pair) <= _HEX:
            return "the path has a malformed percent-escape"
        if pair.lower() in _AMBIGUOUS_ESCAPES:
            return f"the path has an encoded {_AMBIGUOUS_ESCAPES[pair.lower()]!r} (%{pair})"
        if int(pair, 16) < 0x20 or int(pair, 16) == 0x7F:
            return f"the path has an encoded control character (%{pair})"
    return ""


def _escape_indexes(raw: str) -> list[int]:
    return [index for index, char in enumerate(raw) if char == "%"]


def _unescape(raw: str) -> str | None:
    """`raw` with its (already checked) percent-escapes undone; None if not UTF-8."""
    if "%" not in raw:
        return raw
    out = bytearray()
    index = 0
    while index < len(raw):
        if raw[index] == "%":
            out.append(int(raw[index + 1 : index + 3], 16))
            index += 3
        else:
            out.extend(raw[index].encode("ascii"))
            index += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return None
